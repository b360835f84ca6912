//! `datetime`: the current local date and time in ISO 8601, with offset and zone name.

use super::{Tool, ToolResult};
use serde_json::{Value, json};

/// Returns the local time, e.g. `2026-11-26T07:30:00+07:00 (Asia/Jakarta)`.
pub struct DateTime;

impl Tool for DateTime {
    fn name(&self) -> &str {
        "datetime"
    }

    fn description(&self) -> &str {
        "Get the current local date and time in ISO 8601 with the UTC offset and time zone."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }

    fn call(&self, _arguments: &Value) -> ToolResult {
        let now = jiff::Zoned::now();
        let zone = now.time_zone().iana_name().unwrap_or("local");
        Ok(format!("{} ({zone})", now.strftime("%Y-%m-%dT%H:%M:%S%:z")))
    }
}
