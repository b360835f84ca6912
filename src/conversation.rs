//! A turn's place in the log: opening it as far as the turn needs it, the daily token budget,
//! which conversation a turn continues, and recording what the turn did.

use crate::chat::Message;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::history::Fitted;
use crate::log::{Conversation, Log, Record};
use crate::turn::Turn;
use jiff::Timestamp;

/// Which conversation a turn asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Continuation {
    /// A new conversation (the default).
    #[default]
    New,
    /// `-c`: the user's most recent conversation.
    Latest,
    /// `--session NAME`, or a job's session.
    Named(String),
}

/// The log as a turn holds it: open, or absent (turned off, or unusable for a turn that
/// could do without it).
pub struct TurnLog {
    log: Option<Log>,
    /// Where the turn belongs.
    pub conversation: Conversation,
}

impl TurnLog {
    /// Opens the log for a turn. A turn that continues a conversation, or runs under a daily
    /// budget, needs it: then a log that cannot be used is the turn's error (exit 3), and a
    /// log turned off is exit 2 for `-c`/`--session`. A plain turn only warns and answers.
    pub fn open(config: &Config, continuation: &Continuation) -> Result<TurnLog> {
        let needs_history = *continuation != Continuation::New;
        if !config.log.enabled {
            if needs_history {
                return Err(Error::Usage(
                    "`-c` and `--session` continue conversations from the log, which the config \
                     turns off (`\"log\": {\"enabled\": false}`)"
                        .into(),
                ));
            }
            return Ok(TurnLog::without_log());
        }
        let log = match Log::open(&config.log.path) {
            Ok(log) => log,
            Err(error) if !needs_history && config.daily_tokens.is_none() => {
                crate::notice::warning(&format!("this turn is not logged: {error}"));
                return Ok(TurnLog::without_log());
            }
            Err(error) => return Err(error),
        };
        let conversation = match continuation {
            Continuation::New => Conversation::Fresh,
            Continuation::Named(name) => Conversation::Named(name.clone()),
            Continuation::Latest => log.latest_user_conversation()?,
        };
        Ok(TurnLog {
            log: Some(log),
            conversation,
        })
    }

    fn without_log() -> TurnLog {
        TurnLog {
            log: None,
            conversation: Conversation::Fresh,
        }
    }

    /// Refuses the turn (exit 1) once today's tokens reached `limits.daily_tokens`, before
    /// any request is made.
    pub fn check_budget(&self, config: &Config, now: i64) -> Result<()> {
        let (Some(limit), Some(log)) = (config.daily_tokens, &self.log) else {
            return Ok(());
        };
        let used = log.tokens_since(start_of_day(now))?;
        if used as u64 >= limit {
            return Err(Error::Failed(format!(
                "the daily token limit of {limit} is reached ({used} used today; \
                 `limits.daily_tokens` in the config); it resets at {}",
                next_midnight(now)
            )));
        }
        Ok(())
    }

    /// The conversation's messages that go before the new one: whole exchanges that fit
    /// `context_chars` together with the new message (`new_chars`), which is never cut.
    pub fn history(&self, config: &Config, new_chars: usize) -> Result<Fitted> {
        let budget = config.log.context_chars.saturating_sub(new_chars);
        match &self.log {
            Some(log) => log.history(&self.conversation, budget),
            None => Ok(Fitted::default()),
        }
    }

    /// The session's name, for `--json`.
    pub fn session(&self) -> Option<&str> {
        match &self.conversation {
            Conversation::Named(name) => Some(name),
            _ => None,
        }
    }

    /// Records a finished turn (or its error); returns its id. A log that cannot be written
    /// costs a warning, never the answer.
    pub fn record(&mut self, config: &Config, entry: &Outcome) -> Option<i64> {
        let log = self.log.as_mut()?;
        let day = local_day(entry.started);
        let (reply, tool_calls, usage, outcome) = match entry.result {
            Ok(turn) => (
                Some(turn.reply.as_str()),
                crate::json_shape::tool_calls(&turn.tool_calls),
                turn.usage.as_ref(),
                if entry.quiet { "quiet" } else { "ok" }.to_string(),
            ),
            Err(error) => (
                None,
                serde_json::Value::Array(Vec::new()),
                None,
                error.to_string(),
            ),
        };
        let record = Record {
            time: entry.started,
            day: &day,
            conversation: &self.conversation,
            job: entry.job,
            provider: entry.provider,
            model: entry.model,
            message: entry.message,
            messages: entry.messages,
            reply,
            tool_calls,
            usage,
            duration_ms: entry.duration_ms,
            outcome: &outcome,
        };
        match log.record(&record, config.log.keep_days) {
            Ok(id) => Some(id),
            Err(error) => {
                crate::notice::warning(&format!("this turn is not logged: {error}"));
                None
            }
        }
    }
}

/// What a turn did, for the log.
pub struct Outcome<'a> {
    pub started: i64,
    pub job: Option<&'a str>,
    /// The provider that answered; `None` when no request was made (`tool:`).
    pub provider: Option<&'a str>,
    pub model: &'a str,
    pub message: &'a str,
    pub messages: &'a [Message],
    pub duration_ms: i64,
    pub result: &'a Result<Turn>,
    /// A `--quiet` job's turn that answered `NOTHING_TO_REPORT`: outcome `quiet`.
    pub quiet: bool,
}

/// The local date of `seconds`, `YYYY-MM-DD`: the day `usage` and the budget count it in.
pub fn local_day(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .unwrap_or_default()
        .to_zoned(crate::zone::local())
        .date()
        .to_string()
}

/// The start of the local day of `seconds`, in Unix seconds.
fn start_of_day(seconds: i64) -> i64 {
    let zone = crate::zone::local();
    Timestamp::from_second(seconds)
        .unwrap_or_default()
        .to_zoned(zone.clone())
        .date()
        .to_zoned(zone)
        .map_or(seconds - seconds.rem_euclid(86_400), |start| {
            start.timestamp().as_second()
        })
}

/// The next local midnight after `seconds`, RFC 3339: when the daily budget resets.
fn next_midnight(seconds: i64) -> String {
    let zone = crate::zone::local();
    let now = Timestamp::from_second(seconds)
        .unwrap_or_default()
        .to_zoned(zone.clone());
    now.date()
        .tomorrow()
        .and_then(|day| day.to_zoned(zone.clone()))
        .map(|midnight| crate::zone::format_in(midnight.timestamp(), &zone))
        .unwrap_or_else(|_| "midnight".into())
}
