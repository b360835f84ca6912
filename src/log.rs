//! The conversation log (`log.sqlite`): every turn, a user's or a job's, with the messages it
//! added, so that sessions can continue, `log` can show the past and `usage` can sum tokens.
//! SQLite, like the job store, with its own file and schema version.

use crate::chat::{FunctionCall, Message, Role, ToolCall};
use crate::database::{Database, Kind, Schema, refuse_nothing};
use crate::error::{Error, Result};
use crate::history::Fitted;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// The schema this build writes.
const SCHEMA_VERSION: i64 = 1;
/// How long a statement waits for another process's write before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Turns whose id is a multiple of this prune the log (see [`Log::record`]).
const PRUNE_EVERY: i64 = 32;
/// Each stored text (a message, a reply, a tool result) is capped at this many bytes, so one
/// huge piped input does not make every later turn of its session read a megabyte.
pub const MAX_STORED_TEXT: usize = 32 * 1024;

const SCHEMA_V1: &str = "
CREATE TABLE turns (
    id                INTEGER PRIMARY KEY,
    time              INTEGER NOT NULL,   -- Unix seconds, when the turn started
    day               TEXT NOT NULL,      -- its local date (YYYY-MM-DD), for usage and the budget
    session           TEXT,               -- the named conversation it belongs to
    conversation      INTEGER,            -- the first turn of the unnamed conversation it continues
    job               TEXT,               -- the job that ran it
    provider          TEXT,               -- the provider that answered (NULL: no request made)
    model             TEXT,
    message           TEXT NOT NULL,      -- what was typed (or the job's message)
    messages          TEXT NOT NULL,      -- JSON: the messages the turn added to its conversation
    reply             TEXT,
    tool_calls        TEXT NOT NULL,      -- JSON: [{name, arguments, result}]
    prompt_tokens     INTEGER,            -- NULL when the server reported none
    completion_tokens INTEGER,
    usage             TEXT,               -- JSON, as the server reported it
    duration_ms       INTEGER NOT NULL,
    outcome           TEXT NOT NULL       -- 'ok' or the error line
);
-- Partial indexes: a plain turn writes the table and the time index only, so each commit
-- adds few pages to the write-ahead log (which the next process reads at open).
CREATE INDEX turns_by_session ON turns (session, id) WHERE session IS NOT NULL;
CREATE INDEX turns_by_conversation ON turns (conversation) WHERE conversation IS NOT NULL;
CREATE INDEX turns_by_job ON turns (job, id) WHERE job IS NOT NULL;
CREATE INDEX turns_by_time ON turns (time);
";

/// Which conversation a turn belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum Conversation {
    /// A new conversation with no history.
    Fresh,
    /// A named session (`--session NAME`, a job's `--session`).
    Named(String),
    /// An unnamed conversation continued with `-c`: the id of its first turn.
    Unnamed(i64),
}

/// One turn as it is recorded.
#[derive(Debug)]
pub struct Record<'a> {
    pub time: i64,
    /// The local date of `time`, `YYYY-MM-DD`.
    pub day: &'a str,
    pub conversation: &'a Conversation,
    pub job: Option<&'a str>,
    pub provider: Option<&'a str>,
    pub model: &'a str,
    pub message: &'a str,
    /// What the turn added to its conversation: the user message, then the assistant's
    /// messages and tool results. Empty for a turn that failed.
    pub messages: &'a [Message],
    pub reply: Option<&'a str>,
    /// `[{name, arguments, result}]`.
    pub tool_calls: Value,
    pub usage: Option<&'a Value>,
    pub duration_ms: i64,
    /// `ok`, or the error line.
    pub outcome: &'a str,
}

/// One turn as `log` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub time: i64,
    pub session: Option<String>,
    pub job: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub message: String,
    pub reply: Option<String>,
    pub tool_calls: Value,
    pub usage: Option<Value>,
    pub duration_ms: i64,
    pub outcome: String,
}

/// One named session as `sessions` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub name: String,
    pub turns: i64,
    pub last_used: i64,
}

/// Tokens of one day, provider and model.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub day: String,
    pub provider: String,
    pub model: String,
    pub turns: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Turns whose server reported no usage: unknown, not zero.
    pub turns_without_usage: i64,
}

/// Which turns `log` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub session: Option<String>,
    pub job: Option<String>,
}

/// An open log.
pub struct Log {
    db: Database,
}

/// How the log is opened. NORMAL: in WAL mode a commit does not wait for the disk. A power
/// cut may lose the last turns, but no turn waits for an fsync.
const SCHEMA: Schema = Schema {
    kind: Kind::Log,
    version: SCHEMA_VERSION,
    busy_timeout: BUSY_TIMEOUT,
    synchronous: "NORMAL",
    refuse: refuse_nothing,
    migrate,
};

/// Brings a log of version `from` (0: new) up to [`SCHEMA_VERSION`].
fn migrate(tx: &rusqlite::Transaction, from: i64) -> rusqlite::Result<()> {
    if from < 1 {
        tx.execute_batch(SCHEMA_V1)?;
    }
    Ok(())
}

impl Log {
    /// Opens (creating it, private, if absent) the log at `path`. A file that is not a
    /// database, or has a newer schema, is refused and left as it is.
    pub fn open(path: &Path) -> Result<Log> {
        Ok(Log {
            db: Database::open(path, &SCHEMA)?,
        })
    }

    /// Records a turn and prunes turns older than `keep_days` (0 keeps everything), in one
    /// transaction; returns the turn's id.
    pub fn record(&mut self, record: &Record, keep_days: u64) -> Result<i64> {
        let (session, conversation) = match record.conversation {
            Conversation::Fresh => (None, None),
            Conversation::Named(name) => (Some(name.as_str()), None),
            Conversation::Unnamed(first) => (None, Some(*first)),
        };
        let messages: Vec<Message> = record.messages.iter().map(capped).collect();
        let messages = serde_json::to_string(&messages).expect("messages always serialise");
        let tokens = |key: &str| record.usage.and_then(|usage| usage.get(key)?.as_i64());
        let tx = self
            .db
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::log(&self.db.path))?;
        tx.prepare_cached(
            "INSERT INTO turns (time, day, session, conversation, job, provider, model, message,
                                messages, reply, tool_calls, prompt_tokens, completion_tokens,
                                usage, duration_ms, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
                record.time,
                record.day,
                session,
                conversation,
                record.job,
                record.provider,
                record.model,
                cap(record.message),
                messages,
                record.reply.map(cap),
                record.tool_calls.to_string(),
                tokens("prompt_tokens"),
                tokens("completion_tokens"),
                record.usage.map(Value::to_string),
                record.duration_ms,
                cap(record.outcome),
            ])
        })
        .map_err(Error::log(&self.db.path))?;
        let id = tx.last_insert_rowid();
        // Pruning compiles and runs a second statement; every turn paid for it while days
        // pass between turns that have anything to prune. Once every PRUNE_EVERY turns keeps
        // the log within a few dozen turns of `keep_days`.
        if keep_days > 0 && id % PRUNE_EVERY == 0 {
            let cutoff = record.time - keep_days.min(1 << 20) as i64 * 86_400;
            tx.execute("DELETE FROM turns WHERE time < ?1", [cutoff])
                .map_err(Error::log(&self.db.path))?;
        }
        tx.commit().map_err(Error::log(&self.db.path))?;
        Ok(id)
    }

    /// The conversation `-c` continues: the one of the newest turn a user (not a job) ran;
    /// `Fresh` when there is none.
    pub fn latest_user_conversation(&self) -> Result<Conversation> {
        let row = self
            .db
            .conn
            .query_row(
                "SELECT id, session, conversation FROM turns WHERE job IS NULL
                 ORDER BY id DESC LIMIT 1",
                [],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(Error::log(&self.db.path))?;
        Ok(match row {
            None => Conversation::Fresh,
            Some((_, Some(session), _)) => Conversation::Named(session),
            Some((id, None, conversation)) => Conversation::Unnamed(conversation.unwrap_or(id)),
        })
    }

    /// The conversation's past messages that fit `budget` characters (see `history::fit`),
    /// oldest first. Only turns that succeeded count: a failed one left no answer.
    pub fn history(&self, conversation: &Conversation, budget: usize) -> Result<Fitted> {
        let (sql, key) = match conversation {
            Conversation::Fresh => return Ok(Fitted::default()),
            Conversation::Named(name) => (
                "SELECT messages FROM turns WHERE session = ?1 AND outcome = 'ok'
                 ORDER BY id DESC",
                rusqlite::types::Value::Text(name.clone()),
            ),
            Conversation::Unnamed(first) => (
                "SELECT messages FROM turns WHERE (id = ?1 OR conversation = ?1)
                 AND session IS NULL AND outcome = 'ok' ORDER BY id DESC",
                rusqlite::types::Value::Integer(*first),
            ),
        };
        let mut statement = self
            .db
            .conn
            .prepare_cached(sql)
            .map_err(Error::log(&self.db.path))?;
        let mut rows = statement.query([key]).map_err(Error::log(&self.db.path))?;
        let mut failure = None;
        // Rows are read lazily, newest first, only as far as the budget reaches.
        let turns = std::iter::from_fn(|| match rows.next() {
            Ok(Some(row)) => match row.get::<_, String>(0) {
                Ok(text) => Some(messages_from_json(&text)),
                Err(error) => {
                    failure = Some(error);
                    None
                }
            },
            Ok(None) => None,
            Err(error) => {
                failure = Some(error);
                None
            }
        });
        let fitted = crate::history::fit(turns, budget);
        match failure {
            Some(error) => Err(Error::log(&self.db.path)(error)),
            None => Ok(fitted),
        }
    }

    /// Prompt plus completion tokens recorded from `since` (Unix seconds) on.
    pub fn tokens_since(&self, since: i64) -> Result<i64> {
        self.db
            .conn
            .query_row(
                "SELECT coalesce(sum(prompt_tokens), 0) + coalesce(sum(completion_tokens), 0)
                 FROM turns WHERE time >= ?1",
                [since],
                |row| row.get(0),
            )
            .map_err(Error::log(&self.db.path))
    }

    /// The newest `limit` turns that match `filter`, newest first.
    pub fn entries(&self, filter: &Filter, limit: i64) -> Result<Vec<Entry>> {
        let mut statement = self
            .db
            .conn
            .prepare(
                "SELECT id, time, session, job, provider, model, message, reply, tool_calls,
                        usage, duration_ms, outcome
                 FROM turns WHERE (?1 IS NULL OR session = ?1) AND (?2 IS NULL OR job = ?2)
                 ORDER BY id DESC LIMIT ?3",
            )
            .map_err(Error::log(&self.db.path))?;
        let json = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
        statement
            .query_map(params![filter.session, filter.job, limit], |row| {
                Ok(Entry {
                    id: row.get(0)?,
                    time: row.get(1)?,
                    session: row.get(2)?,
                    job: row.get(3)?,
                    provider: row.get(4)?,
                    model: row.get(5)?,
                    message: row.get(6)?,
                    reply: row.get(7)?,
                    tool_calls: json(row.get(8)?).unwrap_or(Value::Array(Vec::new())),
                    usage: json(row.get(9)?),
                    duration_ms: row.get(10)?,
                    outcome: row.get(11)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(Error::log(&self.db.path))
    }

    /// The named sessions, most recently used first.
    pub fn sessions(&self) -> Result<Vec<Session>> {
        let mut statement = self
            .db
            .conn
            .prepare(
                "SELECT session, count(*), max(time) FROM turns WHERE session IS NOT NULL
                 GROUP BY session ORDER BY max(id) DESC",
            )
            .map_err(Error::log(&self.db.path))?;
        statement
            .query_map([], |row| {
                Ok(Session {
                    name: row.get(0)?,
                    turns: row.get(1)?,
                    last_used: row.get(2)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(Error::log(&self.db.path))
    }

    /// Forgets the session `name`: its turns leave the log. Returns how many there were.
    pub fn clear_session(&mut self, name: &str) -> Result<usize> {
        self.db
            .conn
            .execute("DELETE FROM turns WHERE session = ?1", [name])
            .map_err(Error::log(&self.db.path))
    }

    /// Tokens per day, provider and model of the turns that made a request, from `since`
    /// (Unix seconds) on; newest day first.
    pub fn usage(&self, since: i64) -> Result<Vec<Usage>> {
        let mut statement = self
            .db
            .conn
            .prepare(
                "SELECT day, provider, coalesce(model, ''), count(*),
                        coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),
                        sum(prompt_tokens IS NULL AND completion_tokens IS NULL)
                 FROM turns WHERE provider IS NOT NULL AND time >= ?1
                 GROUP BY day, provider, model ORDER BY day DESC, provider, model",
            )
            .map_err(Error::log(&self.db.path))?;
        statement
            .query_map([since], |row| {
                Ok(Usage {
                    day: row.get(0)?,
                    provider: row.get(1)?,
                    model: row.get(2)?,
                    turns: row.get(3)?,
                    prompt_tokens: row.get(4)?,
                    completion_tokens: row.get(5)?,
                    turns_without_usage: row.get(6)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(Error::log(&self.db.path))
    }
}

fn cap(text: &str) -> String {
    crate::truncate::to_bytes(text.to_string(), MAX_STORED_TEXT)
}

/// A message with its texts capped for storage.
/// Images are never stored: the log keeps a line naming each, with its size.
fn capped(message: &Message) -> Message {
    let mut message = message.clone();
    for image in std::mem::take(&mut message.images) {
        message.content.push_str(&format!(
            "\n[image {}, {} bytes, {}]",
            image.source, image.bytes, image.media_type
        ));
    }
    message.content = crate::truncate::to_bytes(message.content, MAX_STORED_TEXT);
    message
}

/// The messages of a stored turn; a message that does not parse is skipped (the history
/// check then drops a call that lost its result).
fn messages_from_json(text: &str) -> Vec<Message> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    items.iter().filter_map(message_from_value).collect()
}

fn message_from_value(value: &Value) -> Option<Message> {
    let role = match value.get("role")?.as_str()? {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        _ => return None,
    };
    let text = |item: &Value, key: &str| item.get(key).and_then(Value::as_str).map(str::to_string);
    let tool_calls = value
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .filter_map(|call| {
                    let function = call.get("function")?;
                    Some(ToolCall {
                        id: text(call, "id")?,
                        kind: "function",
                        function: FunctionCall {
                            name: text(function, "name")?,
                            arguments: text(function, "arguments")?,
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Message {
        role,
        content: text(value, "content").unwrap_or_default(),
        tool_calls,
        tool_call_id: text(value, "tool_call_id"),
        images: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record<'a>(
        conversation: &'a Conversation,
        messages: &'a [Message],
        usage: Option<&'a Value>,
    ) -> Record<'a> {
        Record {
            time: 1_000_000,
            day: "1970-01-12",
            conversation,
            job: None,
            provider: Some("default"),
            model: "m",
            message: "q",
            messages,
            reply: Some("a"),
            tool_calls: json!([]),
            usage,
            duration_ms: 5,
            outcome: "ok",
        }
    }

    fn exchange(question: &str, answer: &str) -> Vec<Message> {
        vec![
            Message::new(Role::User, question),
            Message::new(Role::Assistant, answer),
        ]
    }

    fn open() -> Log {
        let dir = crate::test_support::scratch_dir("log");
        Log::open(&dir.join("log.sqlite")).unwrap()
    }

    #[test]
    fn a_named_session_returns_its_own_messages_in_order() {
        let mut log = open();
        let daily = Conversation::Named("daily".into());
        let other = Conversation::Named("other".into());
        log.record(&record(&daily, &exchange("1?", "1!"), None), 0)
            .unwrap();
        log.record(&record(&other, &exchange("x?", "x!"), None), 0)
            .unwrap();
        log.record(&record(&daily, &exchange("2?", "2!"), None), 0)
            .unwrap();
        let history: Vec<String> = log
            .history(&daily, 1000)
            .unwrap()
            .messages
            .into_iter()
            .map(|m| m.content)
            .collect();
        assert_eq!(history, ["1?", "1!", "2?", "2!"]);
    }

    #[test]
    fn continue_finds_the_users_latest_conversation_not_a_jobs() {
        let mut log = open();
        assert_eq!(log.latest_user_conversation().unwrap(), Conversation::Fresh);
        let first = log
            .record(&record(&Conversation::Fresh, &exchange("a", "b"), None), 0)
            .unwrap();
        let mut job_turn = record(&Conversation::Fresh, &[], None);
        job_turn.job = Some("nightly");
        log.record(&job_turn, 0).unwrap();
        let continued = log.latest_user_conversation().unwrap();
        assert_eq!(continued, Conversation::Unnamed(first));
        log.record(&record(&continued, &exchange("c", "d"), None), 0)
            .unwrap();
        assert_eq!(
            log.latest_user_conversation().unwrap(),
            Conversation::Unnamed(first)
        );
        assert_eq!(log.history(&continued, 1000).unwrap().messages.len(), 4);
    }

    #[test]
    fn failed_turns_are_logged_but_not_history() {
        let mut log = open();
        let session = Conversation::Named("s".into());
        let mut failed = record(&session, &[], None);
        failed.outcome = "provider `x`: connection refused";
        log.record(&failed, 0).unwrap();
        assert!(log.history(&session, 1000).unwrap().messages.is_empty());
        assert_eq!(log.entries(&Filter::default(), 10).unwrap().len(), 1);
    }

    #[test]
    fn usage_counts_unknown_apart_from_zero_and_the_budget_sums_the_day() {
        let mut log = open();
        let usage = json!({"prompt_tokens": 10, "completion_tokens": 5});
        log.record(&record(&Conversation::Fresh, &[], Some(&usage)), 0)
            .unwrap();
        log.record(&record(&Conversation::Fresh, &[], None), 0)
            .unwrap();
        let rows = log.usage(0).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (
                rows[0].turns,
                rows[0].prompt_tokens,
                rows[0].completion_tokens
            ),
            (2, 10, 5)
        );
        assert_eq!(rows[0].turns_without_usage, 1);
        assert_eq!(log.tokens_since(999_999).unwrap(), 15);
        assert_eq!(log.tokens_since(1_000_001).unwrap(), 0);
    }

    #[test]
    fn old_turns_are_pruned_and_sessions_can_be_cleared() {
        let mut log = open();
        let session = Conversation::Named("s".into());
        let mut old = record(&session, &[], None);
        old.time = 0;
        log.record(&old, 0).unwrap();
        log.record(&record(&session, &[], None), 0).unwrap();
        assert_eq!(log.sessions().unwrap()[0].turns, 2);
        // 1 000 000 s is 11.6 days: a 10-day log forgets the turn at time 0, at the next turn
        // whose id is a multiple of PRUNE_EVERY.
        for id in 3..PRUNE_EVERY {
            log.record(&record(&session, &[], None), 10).unwrap();
            assert_eq!(log.sessions().unwrap()[0].turns, id, "not pruned yet");
        }
        log.record(&record(&session, &[], None), 10).unwrap();
        assert_eq!(log.sessions().unwrap()[0].turns, PRUNE_EVERY - 1);
        assert_eq!(log.clear_session("s").unwrap() as i64, PRUNE_EVERY - 1);
        assert!(log.sessions().unwrap().is_empty());
    }

    #[test]
    fn stored_messages_read_back_with_their_tool_calls() {
        let call = Message {
            tool_calls: vec![ToolCall {
                id: "c1".into(),
                kind: "function",
                function: FunctionCall {
                    name: "time".into(),
                    arguments: "{}".into(),
                },
            }],
            ..Message::new(Role::Assistant, "")
        };
        let messages = vec![
            Message::new(Role::User, "t?"),
            call,
            Message::tool_result("c1", "17"),
            Message::new(Role::Assistant, "17"),
        ];
        let text = serde_json::to_string(&messages).unwrap();
        assert_eq!(messages_from_json(&text), messages);
    }

    #[test]
    fn the_write_ahead_log_stays_short_across_many_short_lived_connections() {
        let dir = crate::test_support::scratch_dir("log-wal");
        let path = dir.join("log.sqlite");
        let messages = exchange(&"q".repeat(3000), &"a".repeat(3000));
        for _ in 0..300 {
            let mut log = Log::open(&path).unwrap();
            log.record(&record(&Conversation::Fresh, &messages, None), 0)
                .unwrap();
        }
        let wal = std::fs::metadata(crate::wal::wal_path(&path))
            .unwrap()
            .len();
        // One process's commit may add a few pages over the limit before it truncates.
        assert!(
            wal <= crate::wal::MAX_WAL_BYTES + 16 * 4096,
            "WAL is {wal} bytes"
        );
        let log = Log::open(&path).unwrap();
        assert_eq!(log.entries(&Filter::default(), 1000).unwrap().len(), 300);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused_untouched() {
        let dir = crate::test_support::scratch_dir("log-refused");
        let path = dir.join("log.sqlite");
        std::fs::write(&path, "not a database at all, just some text\n".repeat(200)).unwrap();
        let before = std::fs::read(&path).unwrap();
        let error = Log::open(&path).err().expect("refused");
        assert!(
            error.to_string().contains("not an SQLite database"),
            "{error}"
        );
        assert_eq!(error.exit_code(), 3);
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
