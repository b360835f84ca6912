//! `log`, `sessions`, `session-clear`, `usage`: what the conversation log holds.

use super::table;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::json_shape;
use crate::log::{Filter, Log};
use crate::output;
use crate::zone::format_in;
use jiff::Timestamp;
use serde_json::Value;

/// Opens the log for reading commands; a log turned off has nothing to show.
fn open(config: &Config) -> Result<Log> {
    if !config.log.enabled {
        return Err(Error::Usage(
            "the log is turned off in the config (`\"log\": {\"enabled\": false}`)".into(),
        ));
    }
    Log::open(&config.log.path)
}

/// A time as shown to people: RFC 3339 in the local zone.
fn local_time(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .map(|instant| format_in(instant, &crate::zone::local()))
        .unwrap_or_default()
}

/// `log`: the newest turns first.
pub fn list(config: &Config, count: i64, filter: Filter, json: bool) -> Result<()> {
    let entries = open(config)?.entries(&filter, count.max(0))?;
    if json {
        let items = entries
            .iter()
            .map(|entry| json_shape::log_entry(entry, &local_time(entry.time)))
            .collect();
        return output::json(&Value::Array(items));
    }
    if entries.is_empty() {
        return output::line("no turns logged yet");
    }
    for entry in &entries {
        let place = match (&entry.session, &entry.job) {
            (Some(session), _) => format!("session {session}"),
            (None, Some(job)) => format!("job {job}"),
            (None, None) => "-".into(),
        };
        let outcome = if entry.outcome == "ok" {
            format!("ok {} ms", entry.duration_ms)
        } else {
            "failed".into()
        };
        output::line(&format!(
            "#{}  {}  {}  {}  {}",
            entry.id,
            local_time(entry.time),
            place,
            entry.model.as_deref().unwrap_or("-"),
            outcome
        ))?;
        output::line(&format!("  > {}", first_line(&entry.message)))?;
        match &entry.reply {
            Some(reply) => output::line(&format!("  < {}", first_line(reply)))?,
            None => output::line(&format!("  ! {}", first_line(&entry.outcome)))?,
        }
    }
    Ok(())
}

/// The first line of `text`, cut to a terminal's width.
fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let mut cut: String = line.chars().take(100).collect();
    if cut.len() < line.len() {
        cut.push('…');
    }
    cut
}

/// `sessions`: the named conversations, most recently used first.
pub fn sessions(config: &Config, json: bool) -> Result<()> {
    let sessions = open(config)?.sessions()?;
    if json {
        let items = sessions
            .iter()
            .map(|session| json_shape::session(session, &local_time(session.last_used)))
            .collect();
        return output::json(&Value::Array(items));
    }
    if sessions.is_empty() {
        return output::line("no sessions yet (start one with `nanopy agent --session NAME`)");
    }
    let rows: Vec<[String; 3]> = sessions
        .iter()
        .map(|s| [s.name.clone(), s.turns.to_string(), local_time(s.last_used)])
        .collect();
    table::print(["SESSION", "TURNS", "LAST USED"], &rows)
}

/// `session-clear NAME`: forgets the conversation.
pub fn clear(config: &Config, name: &str) -> Result<()> {
    let removed = open(config)?.clear_session(name)?;
    if removed == 0 {
        return Err(Error::Input(format!(
            "no session named `{name}` (see `nanopy sessions`)"
        )));
    }
    output::line(&format!(
        "forgot session `{name}` ({removed} turn{})",
        if removed == 1 { "" } else { "s" }
    ))
}

/// `usage`: tokens per day, provider and model.
pub fn usage(config: &Config, since: Option<String>, json: bool) -> Result<()> {
    let since = match since {
        Some(text) => since_seconds(&text, Timestamp::now())?,
        None => i64::MIN,
    };
    let rows = open(config)?.usage(since)?;
    if json {
        return output::json(&Value::Array(rows.iter().map(json_shape::usage).collect()));
    }
    if rows.is_empty() {
        return output::line("no usage logged yet");
    }
    let rows: Vec<[String; 7]> = rows
        .iter()
        .map(|row| {
            [
                row.day.clone(),
                row.provider.clone(),
                row.model.clone(),
                row.turns.to_string(),
                row.prompt_tokens.to_string(),
                row.completion_tokens.to_string(),
                row.turns_without_usage.to_string(),
            ]
        })
        .collect();
    table::print(
        [
            "DAY",
            "PROVIDER",
            "MODEL",
            "TURNS",
            "PROMPT",
            "COMPLETION",
            "NO FIGURE",
        ],
        &rows,
    )
}

/// `--since`: a duration back from `now` (`7d`), or the start of a local date (`2026-12-01`).
fn since_seconds(text: &str, now: Timestamp) -> Result<i64> {
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        return date
            .to_zoned(crate::zone::local())
            .map(|start| start.timestamp().as_second())
            .map_err(|error| Error::Usage(format!("`--since {text}`: {error}")));
    }
    let back = crate::duration::parse(text).map_err(|error| {
        Error::Usage(format!(
            "`--since` takes a duration like 7d or a date like 2026-12-01, not `{text}` ({error})"
        ))
    })?;
    Ok(now.as_second().saturating_sub(back.as_secs() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_duration_or_a_date() {
        let now: Timestamp = "2026-12-02T12:00:00Z".parse().unwrap();
        assert_eq!(since_seconds("2h", now).unwrap(), now.as_second() - 7200);
        assert!(since_seconds("2026-12-01", now).unwrap() < now.as_second());
        assert_eq!(since_seconds("yesterday", now).unwrap_err().exit_code(), 2);
    }
}
