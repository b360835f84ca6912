//! `time`: the current Unix timestamp (the Python tool's only tool).

use super::{Tool, ToolResult};
use serde_json::{Value, json};

/// Returns the current Unix time in whole seconds.
pub struct Time;

impl Tool for Time {
    fn name(&self) -> &str {
        "time"
    }

    fn description(&self) -> &str {
        "Get the current time as a Unix timestamp: whole seconds since 1970-01-01 UTC (use `datetime` for a local date and time)."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }

    fn call(&self, _arguments: &Value) -> ToolResult {
        Ok(jiff::Timestamp::now().as_second().to_string())
    }
}
