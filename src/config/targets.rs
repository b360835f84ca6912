//! Where replies are delivered (SPEC §12): the `targets` object, each entry of exactly one kind
//! (`ntfy`, `telegram`, `email`, `webhook`, `ping`, `command`), the `telegram` bot settings the
//! `telegram` kind sends through, and `quiet_hours`. Errors name the file, line and column;
//! tokens are kept out of `config`'s view.

use super::file::syntax_error_at;
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The kinds a target may have, as their key in the entry.
pub const KINDS: &[&str] = &["ntfy", "telegram", "email", "webhook", "ping", "command"];

/// The keys a target entry may have besides its kind.
const TARGET_KEYS: &[&str] = &[
    "ntfy",
    "telegram",
    "email",
    "webhook",
    "ping",
    "command",
    "token",
    "token_env",
    "priority",
    "tags",
    "headers",
    "from",
    "sendmail",
];

/// One named target.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub kind: Kind,
}

/// A target's kind and what it needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// POST the text to a topic URL.
    Ntfy {
        url: String,
        token: Option<Secret>,
        priority: Option<String>,
        tags: Option<String>,
    },
    /// `sendMessage` to a chat through the configured bot.
    Telegram { chat: i64 },
    /// An RFC 5322 message piped to `sendmail -i -t`.
    Email {
        to: String,
        from: Option<String>,
        sendmail: Option<String>,
    },
    /// POST a JSON document.
    Webhook {
        url: String,
        headers: BTreeMap<String, String>,
    },
    /// The healthchecks.io convention: `/start`, success, `/fail`.
    Ping { url: String },
    /// `sh -c CMD` with the text on stdin.
    Command { command: String },
}

impl Kind {
    /// The kind's name, as the config writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Ntfy { .. } => "ntfy",
            Kind::Telegram { .. } => "telegram",
            Kind::Email { .. } => "email",
            Kind::Webhook { .. } => "webhook",
            Kind::Ping { .. } => "ping",
            Kind::Command { .. } => "command",
        }
    }
}

/// A token given inline (`token`) or through an environment variable (`token_env`), read
/// when the config loads and never shown.
#[derive(Clone, PartialEq)]
pub struct Secret {
    pub value: String,
    /// Where it comes from, for `config`: never the token itself.
    pub source: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", self.source)
    }
}

/// The `telegram` object: the bot that `telegram` targets (and `serve`'s bot) use.
#[derive(Debug, Clone, PartialEq)]
pub struct Telegram {
    pub token: Option<Secret>,
    pub allow: Vec<i64>,
    pub api_url: String,
}

/// `quiet_hours`: a daily window, in minutes after local midnight; `start > end` crosses
/// midnight (`22:00-07:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: u32,
    pub end: u32,
}

impl QuietHours {
    /// Whether `minute` (after local midnight) lies inside the window.
    pub fn contains(self, minute: u32) -> bool {
        if self.start <= self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }

    /// Parses `HH:MM-HH:MM`.
    pub fn parse(text: &str) -> Option<QuietHours> {
        let (start, end) = text.trim().split_once('-')?;
        let minutes = |part: &str| {
            let (hour, minute) = part.trim().split_once(':')?;
            let (hour, minute): (u32, u32) = (hour.parse().ok()?, minute.parse().ok()?);
            (hour < 24 && minute < 60 && part.trim().len() == 5).then_some(hour * 60 + minute)
        };
        let (start, end) = (minutes(start)?, minutes(end)?);
        (start != end).then_some(QuietHours { start, end })
    }
}

/// Where an entry is in the file, for errors.
struct Place<'a> {
    path: &'a Path,
    text: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Place<'_> {
    fn fail(&self, at: &[&str], message: String) -> Error {
        syntax_error_at(self.path, self.text, at, message)
    }

    fn string(&self, map: &Map<String, Value>, at: &[&str], key: &str) -> Result<Option<String>> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if !text.trim().is_empty() => Ok(Some(text.clone())),
            Some(_) => Err(self.fail(
                &[at, &[key]].concat(),
                format!("`{}.{key}` must be a non-empty string", at.join(".")),
            )),
        }
    }

    fn url(&self, map: &Map<String, Value>, at: &[&str], key: &str) -> Result<Option<String>> {
        let url = self.string(map, at, key)?;
        match url {
            Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => Err(self
                .fail(
                    &[at, &[key]].concat(),
                    format!(
                        "`{}.{key}` must start with http:// or https://",
                        at.join(".")
                    ),
                )),
            other => Ok(other),
        }
    }

    /// `token` or `token_env` (the variable must be set when the config loads).
    fn secret(&self, map: &Map<String, Value>, at: &[&str]) -> Result<Option<Secret>> {
        if let Some(value) = self.string(map, at, "token")? {
            return Ok(Some(Secret {
                value,
                source: "(in the config file, redacted)".into(),
            }));
        }
        let Some(variable) = self.string(map, at, "token_env")? else {
            return Ok(None);
        };
        match (self.env)(&variable) {
            Some(value) => Ok(Some(Secret {
                value,
                source: format!("(from environment variable {variable}, redacted)"),
            })),
            None => Ok(Some(Secret {
                value: String::new(),
                source: format!("(environment variable {variable} is not set)"),
            })),
        }
    }
}

/// Reads the `targets` entries; an error names the file, line and column.
pub fn targets(
    path: &Path,
    text: &str,
    entries: &Map<String, Value>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Target>> {
    let place = Place { path, text, env };
    entries
        .iter()
        .map(|(name, entry)| target(&place, name, entry))
        .collect()
}

fn target(place: &Place, name: &str, entry: &Value) -> Result<Target> {
    let at = ["targets", name];
    if name.trim().is_empty() || name.starts_with("telegram:") || name == "none" {
        return Err(place.fail(
            &at,
            format!("`{name}` cannot name a target (`none` and `telegram:<id>` mean other things)"),
        ));
    }
    let Value::Object(map) = entry else {
        return Err(place.fail(&at, format!("target `{name}` must be an object")));
    };
    if let Some(key) = map.keys().find(|key| !TARGET_KEYS.contains(&key.as_str())) {
        return Err(place.fail(
            &[&at[..], &[key.as_str()]].concat(),
            format!("target `{name}` has an unknown key `{key}`"),
        ));
    }
    let kinds: Vec<&&str> = KINDS
        .iter()
        .filter(|kind| map.contains_key(**kind))
        .collect();
    let [kind] = kinds[..] else {
        return Err(place.fail(
            &at,
            format!(
                "target `{name}` needs exactly one kind: {}",
                KINDS.join(", ")
            ),
        ));
    };
    let kind = match *kind {
        "ntfy" => Kind::Ntfy {
            url: place.url(map, &at, "ntfy")?.unwrap_or_default(),
            token: place.secret(map, &at)?,
            priority: place.string(map, &at, "priority")?,
            tags: place.string(map, &at, "tags")?,
        },
        "telegram" => match map.get("telegram").and_then(Value::as_i64) {
            Some(chat) => Kind::Telegram { chat },
            None => {
                return Err(place.fail(
                    &[&at[..], &["telegram"]].concat(),
                    format!("`targets.{name}.telegram` must be a chat id (a number)"),
                ));
            }
        },
        "email" => {
            let to = place.string(map, &at, "email")?.unwrap_or_default();
            if !to.contains('@') || to.contains(['\r', '\n']) {
                return Err(place.fail(
                    &[&at[..], &["email"]].concat(),
                    format!("`targets.{name}.email` must be an address like ops@example.com"),
                ));
            }
            Kind::Email {
                to,
                from: place.string(map, &at, "from")?,
                sendmail: place.string(map, &at, "sendmail")?,
            }
        }
        "webhook" => Kind::Webhook {
            url: place.url(map, &at, "webhook")?.unwrap_or_default(),
            headers: headers(place, map, &at)?,
        },
        "ping" => Kind::Ping {
            url: place
                .url(map, &at, "ping")?
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
        },
        _ => Kind::Command {
            command: place.string(map, &at, "command")?.unwrap_or_default(),
        },
    };
    Ok(Target {
        name: name.to_string(),
        kind,
    })
}

fn headers(
    place: &Place,
    map: &Map<String, Value>,
    at: &[&str],
) -> Result<BTreeMap<String, String>> {
    match map.get("headers") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(items)) if items.values().all(Value::is_string) => Ok(items
            .iter()
            .map(|(key, value)| (key.clone(), value.as_str().unwrap_or("").to_string()))
            .collect()),
        Some(_) => Err(place.fail(
            &[at, &["headers"]].concat(),
            format!("`{}.headers` must be an object of strings", at.join(".")),
        )),
    }
}

/// Reads the `telegram` object.
pub fn telegram(
    path: &Path,
    text: &str,
    entry: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Telegram> {
    let place = Place { path, text, env };
    let at = ["telegram"];
    let Value::Object(map) = entry else {
        return Err(place.fail(&at, "`telegram` must be an object".into()));
    };
    let allow = match map.get("allow") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) if ids.iter().all(Value::is_i64) => {
            ids.iter().filter_map(Value::as_i64).collect()
        }
        Some(_) => {
            return Err(place.fail(
                &["telegram", "allow"],
                "`telegram.allow` must be a list of numeric user ids".into(),
            ));
        }
    };
    Ok(Telegram {
        token: place.secret(map, &at)?,
        allow,
        api_url: place
            .url(map, &at, "api_url")?
            .unwrap_or_else(|| "https://api.telegram.org".into())
            .trim_end_matches('/')
            .to_string(),
    })
}

/// Reads `quiet_hours` (`HH:MM-HH:MM`).
pub fn quiet_hours(path: &Path, text: &str, value: &str) -> Result<QuietHours> {
    QuietHours::parse(value).ok_or_else(|| {
        syntax_error_at(
            path,
            text,
            &["quiet_hours"],
            format!("`quiet_hours` must be a window like `22:00-07:00`, not `{value}`"),
        )
    })
}

/// A target as `config` shows it: tokens and header values redacted.
pub fn redacted(target: &Target) -> Value {
    let secret = |token: &Option<Secret>| {
        token
            .as_ref()
            .map_or(Value::Null, |token| Value::String(token.source.clone()))
    };
    match &target.kind {
        Kind::Ntfy {
            url,
            token,
            priority,
            tags,
        } => {
            serde_json::json!({"ntfy": url, "token": secret(token), "priority": priority, "tags": tags})
        }
        Kind::Telegram { chat } => serde_json::json!({"telegram": chat}),
        Kind::Email { to, from, sendmail } => {
            serde_json::json!({"email": to, "from": from, "sendmail": sendmail})
        }
        Kind::Webhook { url, headers } => {
            let headers: Map<String, Value> = headers
                .keys()
                .map(|key| (key.clone(), Value::String("(redacted)".into())))
                .collect();
            serde_json::json!({"webhook": url, "headers": headers})
        }
        Kind::Ping { url } => serde_json::json!({"ping": url}),
        Kind::Command { command } => serde_json::json!({"command": command}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<Target>> {
        let value: Value = serde_json::from_str(text).unwrap();
        let env = |name: &str| (name == "NTFY_TOKEN").then(|| "tk".to_string());
        targets(
            Path::new("c.json"),
            text,
            value["targets"].as_object().unwrap(),
            &env,
        )
    }

    #[test]
    fn each_kind_reads_with_its_fields() {
        let targets = read(
            r#"{"targets": {
                "phone": {"ntfy": "https://ntfy.sh/t", "token_env": "NTFY_TOKEN", "priority": "low"},
                "me": {"telegram": 123456789},
                "ops": {"email": "ops@example.com", "sendmail": "/usr/bin/msmtp"},
                "hass": {"webhook": "http://h/hook", "headers": {"X-Token": "x"}},
                "hc": {"ping": "https://hc-ping.com/abc/"},
                "log": {"command": "logger -t nanopy"}}}"#,
        )
        .unwrap();
        let kind = |name: &str| targets.iter().find(|t| t.name == name).unwrap().kind.name();
        assert_eq!(
            ["phone", "me", "ops", "hass", "hc", "log"].map(kind),
            ["ntfy", "telegram", "email", "webhook", "ping", "command"]
        );
        let phone = targets.iter().find(|t| t.name == "phone").unwrap();
        let Kind::Ntfy { token, .. } = &phone.kind else {
            panic!()
        };
        assert_eq!(token.as_ref().unwrap().value, "tk");
        let hc = targets.iter().find(|t| t.name == "hc").unwrap();
        assert_eq!(
            hc.kind,
            Kind::Ping {
                url: "https://hc-ping.com/abc".into()
            }
        );
    }

    #[test]
    fn bad_entries_name_their_line() {
        for (text, says) in [
            (r#"{"targets": {"x": {}}}"#, "exactly one kind"),
            (
                r#"{"targets": {"x": {"ntfy": "a", "ping": "b"}}}"#,
                "exactly one kind",
            ),
            (
                r#"{"targets": {"x": {"pager": "a"}}}"#,
                "unknown key `pager`",
            ),
            (r#"{"targets": {"x": {"ntfy": "ftp://a"}}}"#, "http://"),
            (r#"{"targets": {"x": {"telegram": "me"}}}"#, "chat id"),
            (r#"{"targets": {"x": {"email": "nobody"}}}"#, "an address"),
            (r#"{"targets": {"x": 3}}"#, "must be an object"),
            (
                r#"{"targets": {"none": {"ping": "http://a"}}}"#,
                "cannot name a target",
            ),
        ] {
            let error = read(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
            assert!(error.contains("line 1"), "{error}");
        }
    }

    #[test]
    fn quiet_hours_cross_midnight_or_not() {
        let night = QuietHours::parse("22:00-07:00").unwrap();
        assert!(night.contains(23 * 60) && night.contains(0) && night.contains(6 * 60 + 59));
        assert!(!night.contains(7 * 60) && !night.contains(12 * 60));
        let lunch = QuietHours::parse("12:00-13:30").unwrap();
        assert!(lunch.contains(12 * 60 + 45) && !lunch.contains(13 * 60 + 30));
        for bad in ["22-07", "25:00-07:00", "22:00", "10:00-10:00", "7:00-08:00"] {
            assert!(QuietHours::parse(bad).is_none(), "{bad}");
        }
    }
}
