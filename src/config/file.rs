//! The config file as written: its typed shape, reading it (written with the defaults when
//! absent, never overwritten), syntax and type errors with line and column, and the
//! unknown-key warning.

use super::mcp::MCP_KEYS;
use crate::atomic_file;
use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The file written on first run: every key with its default, so users see what they can set.
pub const DEFAULT_CONFIG_FILE: &str = r#"{
  "provider": {
    "api_key": "",
    "base_url": "https://api.openai.com/v1",
    "model": "gpt-4o-mini",
    "timeout_secs": 120,
    "max_retries": 2
  },
  "system_prompt": "You are nanopybot, a concise and helpful assistant.",
  "memory_path": "memory.json",
  "scheduler_db_path": "jobs.sqlite",
  "log_path": "log.sqlite"
}
"#;

/// The config file as written; every key optional, `null` meaning "use the default".
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FileConfig {
    pub provider: FileProvider,
    pub providers: BTreeMap<String, FileProvider>,
    pub default_provider: Option<String>,
    pub fallback: Vec<String>,
    pub aliases: BTreeMap<String, FileAlias>,
    pub system_prompt: Option<String>,
    pub memory_path: Option<String>,
    pub scheduler_db_path: Option<String>,
    pub log_path: Option<String>,
    pub log: FileLog,
    pub tools: FileTools,
    pub limits: FileLimits,
    /// Checked by hand after parsing, so an error can name the entry's line and column.
    pub mcp: BTreeMap<String, Value>,
    /// Checked by hand, like `mcp`.
    pub targets: serde_json::Map<String, Value>,
    pub telegram: Option<Value>,
    pub quiet_hours: Option<String>,
    pub quiet_hours_tz: Option<String>,
    pub check_timeout_secs: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FileLimits {
    pub input_bytes: Option<u64>,
    pub image_bytes: Option<u64>,
    pub daily_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FileLog {
    pub enabled: Option<bool>,
    pub keep_days: Option<u64>,
    pub context_chars: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FileProvider {
    pub api_key: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key_cmd: Option<String>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub timeout_secs: Option<u64>,
    pub max_retries: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FileAlias {
    pub provider: Option<String>,
    pub model: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FileTools {
    pub shell: FileShell,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FileShell {
    pub allow: Vec<String>,
    pub timeout_secs: Option<u64>,
}

/// The keys of a provider object (`provider`, each of `providers`).
pub const PROVIDER_KEYS: &[&str] = &[
    "api_key",
    "api_key_env",
    "api_key_cmd",
    "base_url",
    "model",
    "timeout_secs",
    "max_retries",
];

/// Known keys per object, for the unknown-key warning; a nested object is listed by its path.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "provider",
            "providers",
            "default_provider",
            "fallback",
            "aliases",
            "system_prompt",
            "memory_path",
            "scheduler_db_path",
            "log_path",
            "log",
            "tools",
            "limits",
            "mcp",
            "targets",
            "telegram",
            "quiet_hours",
            "quiet_hours_tz",
            "check_timeout_secs",
        ],
    ),
    ("telegram", &["token", "token_env", "allow", "api_url"]),
    ("provider", PROVIDER_KEYS),
    ("tools", &["shell"]),
    ("limits", &["input_bytes", "daily_tokens", "image_bytes"]),
    ("log", &["enabled", "keep_days", "context_chars"]),
    ("tools.shell", &["allow", "timeout_secs"]),
];

/// Reads the config file, writing the defaults first if there is none. A broken file is an
/// error naming the line and column, and is never replaced.
pub fn read_or_create(path: &Path) -> Result<(FileConfig, String)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            atomic_file::create_new(path, DEFAULT_CONFIG_FILE.as_bytes())
                .map_err(Error::file("create the config file", path))?;
            std::fs::read_to_string(path).map_err(Error::file("read the config file", path))?
        }
        Err(error) => {
            return Err(Error::File {
                action: "read the config file",
                path: path.to_path_buf(),
                source: error,
            });
        }
    };
    Ok((parse(path, &text)?, text))
}

pub fn parse(path: &Path, text: &str) -> Result<FileConfig> {
    let syntax_error = |error: serde_json::Error| Error::ConfigSyntax {
        path: path.to_path_buf(),
        line: error.line(),
        column: error.column(),
        message: crate::error::json_error_text(&error),
    };
    let value: Value = serde_json::from_str(text).map_err(syntax_error)?;
    check_shape(path, text, &value)?;
    let file: FileConfig = serde_json::from_str(text).map_err(syntax_error)?;
    check_ranges(path, text, &value)?;
    let unknown = unknown_keys(&value);
    if !unknown.is_empty() {
        crate::notice::warning(&format!(
            "unknown key{} in `{}`: {} (ignored)",
            if unknown.len() == 1 { "" } else { "s" },
            path.display(),
            unknown.join(", ")
        ));
    }
    Ok(file)
}

/// The objects of the file must be JSON objects: serde would take an array for a struct
/// (`[]` as an empty config, `[{"model": "a"}]` as a `provider`), silently.
fn check_shape(path: &Path, text: &str, root: &Value) -> Result<()> {
    if !root.is_object() {
        return Err(Error::ConfigSyntax {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!(
                "the config must be a JSON object (`{{ … }}`), not {}",
                kind_of(root)
            ),
        });
    }
    let mut objects: Vec<Vec<String>> = ["provider", "log", "tools", "limits"]
        .iter()
        .map(|key| vec![key.to_string()])
        .collect();
    objects.push(vec!["tools".into(), "shell".into()]);
    objects.push(vec!["targets".into()]);
    objects.push(vec!["telegram".into()]);
    for section in ["providers", "aliases", "mcp"] {
        objects.push(vec![section.into()]);
        if let Some(Value::Object(entries)) = root.get(section) {
            // `mcp` entries are checked by their own reader, with their own words.
            if section != "mcp" {
                objects.extend(
                    entries
                        .keys()
                        .map(|name| vec![section.into(), name.clone()]),
                );
            }
        }
    }
    for at in objects {
        let value = at.iter().try_fold(root, |value, key| value.get(key));
        if let Some(value) = value.filter(|value| !value.is_null() && !value.is_object()) {
            let at: Vec<&str> = at.iter().map(String::as_str).collect();
            return Err(syntax_error_at(
                path,
                text,
                &at,
                format!(
                    "`{}` must be a JSON object, not {}",
                    at.join("."),
                    kind_of(value)
                ),
            ));
        }
    }
    Ok(())
}

/// Values that parse but cannot work are refused at load, with line and column, rather than
/// at the first turn: a timeout of 0, an input limit of 0, a daily budget of 0.
fn check_ranges(path: &Path, text: &str, root: &Value) -> Result<()> {
    let mut at_least_one: Vec<Vec<String>> = vec![
        vec!["provider".into(), "timeout_secs".into()],
        vec!["tools".into(), "shell".into(), "timeout_secs".into()],
        vec!["limits".into(), "input_bytes".into()],
        vec!["limits".into(), "daily_tokens".into()],
        vec!["limits".into(), "image_bytes".into()],
        vec!["check_timeout_secs".into()],
    ];
    if let Some(Value::Object(providers)) = root.get("providers") {
        at_least_one.extend(
            providers
                .keys()
                .map(|name| vec!["providers".into(), name.clone(), "timeout_secs".into()]),
        );
    }
    for at in at_least_one {
        let value = at.iter().try_fold(root, |value, key| value.get(key));
        if value.and_then(Value::as_u64) == Some(0) {
            let at: Vec<&str> = at.iter().map(String::as_str).collect();
            return Err(syntax_error_at(
                path,
                text,
                &at,
                format!("`{}` must be at least 1", at.join(".")),
            ));
        }
    }
    Ok(())
}

/// A JSON value's kind in words, for messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn unknown_keys(root: &Value) -> Vec<String> {
    let mut unknown = Vec::new();
    for (section, known) in [
        ("providers", PROVIDER_KEYS),
        ("mcp", MCP_KEYS),
        ("aliases", &["provider", "model"][..]),
    ] {
        if let Some(Value::Object(entries)) = root.get(section) {
            for (name, entry) in entries {
                if let Value::Object(map) = entry {
                    for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
                        unknown.push(format!("{section}.{name}.{key}"));
                    }
                }
            }
        }
    }
    for (prefix, known) in KNOWN_KEYS {
        let object = prefix
            .split('.')
            .filter(|part| !part.is_empty())
            .try_fold(root, |value, part| value.get(part));
        if let Some(Value::Object(map)) = object {
            for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
                unknown.push(if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                });
            }
        }
    }
    unknown
}

/// The line and column (1-based) of the JSON string `path[last]` found after each earlier
/// element of `path` in turn: where a config error about that value points. A plain text
/// search, enough for a file we already parsed; `(1, 1)` when nothing matches.
fn locate(text: &str, path: &[&str]) -> (usize, usize) {
    let mut from = 0;
    let mut at = None;
    for part in path {
        let needle = Value::String(part.to_string()).to_string();
        match text[from..].find(&needle) {
            Some(offset) => {
                at = Some(from + offset);
                from += offset + needle.len();
            }
            None => break,
        }
    }
    let Some(at) = at else {
        return (1, 1);
    };
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

/// A config error pointing at the value at `at` (see [`locate`]).
pub fn syntax_error_at(path: &Path, text: &str, at: &[&str], message: String) -> Error {
    let (line, column) = locate(text, at);
    Error::ConfigSyntax {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}
