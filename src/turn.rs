//! What one agent turn produced, for printing, `--json`, the job history and (later) the log.

use serde_json::Value;

/// One tool call made during the turn.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRun {
    pub name: String,
    pub arguments: Value,
    pub result: String,
}

/// The outcome of a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub reply: String,
    pub tool_calls: Vec<ToolRun>,
    pub rule_learned: Option<String>,
    /// Its number in `nanopy rules`, for `rules-forget`.
    pub rule_number: Option<usize>,
    /// The model that answered, as the server named it (else the one asked for).
    pub model: String,
    /// Token counts summed over the turn's requests, as the server reported them.
    pub usage: Option<Value>,
}
