//! What one agent turn produced, for printing, `--json`, the job history and the log.

use crate::chat::Message;
use serde_json::Value;

/// One tool call made during the turn.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRun {
    pub name: String,
    pub arguments: Value,
    pub result: String,
}

/// The outcome of a turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Turn {
    pub reply: String,
    pub tool_calls: Vec<ToolRun>,
    pub rule_learned: Option<String>,
    /// Its number in `nanopy rules`, for `rules-forget`.
    pub rule_number: Option<u64>,
    /// Kept rules the learned one replaced, oldest first (SPEC §3.2).
    pub rules_replaced: Vec<crate::rules::Rule>,
    /// The model that answered, as the server named it (else the one asked for).
    pub model: String,
    /// Token counts summed over the turn's requests, as the server reported them.
    pub usage: Option<Value>,
    /// The provider that answered; `None` when no request was made (`tool:`).
    pub provider: Option<String>,
    /// The named session the turn continued.
    pub session: Option<String>,
    /// Its id in the log; `None` when it was not logged.
    pub turn_id: Option<i64>,
    /// What the turn added to its conversation (user message, assistant messages, tool
    /// results), for the log.
    pub messages: Vec<Message>,
    /// With `--schema`: the reply's JSON document, validated.
    pub document: Option<serde_json::Value>,
}
