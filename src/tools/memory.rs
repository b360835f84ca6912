//! `memory_get`, `memory_set`, `memory_keys`: the model remembers facts in the memory store.

use super::{Tool, ToolError, ToolResult, string_arg};
use crate::clock::now;
use crate::memory::{self, Memory};
use serde_json::{Value, json};

/// The prefix of the memory keys that hold learned rules (`rules.last`, `rules.history`).
const RULES_PREFIX: &str = "rules.";

/// Reads one key.
pub struct MemoryGet(pub Memory);
/// Writes one key.
pub struct MemorySet(pub Memory);
/// Lists the keys.
pub struct MemoryKeys(pub Memory);

impl Tool for MemoryGet {
    fn name(&self) -> &str {
        "memory_get"
    }

    fn description(&self) -> &str {
        "Read a value the user or you stored earlier in long-term memory."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"key": {"type": "string", "description": "The memory key."}},
            "required": ["key"]
        })
    }

    fn call(&self, arguments: &Value) -> ToolResult {
        let key = string_arg(arguments, "key")?;
        match self.0.get(key, now())? {
            Some(Value::String(text)) => Ok(text),
            Some(value) => Ok(value.to_string()),
            None => Err(ToolError(format!("no memory key `{key}`"))),
        }
    }
}

impl Tool for MemorySet {
    fn name(&self) -> &str {
        "memory_set"
    }

    fn description(&self) -> &str {
        "Store a fact in long-term memory under a key, replacing any earlier value."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "key": {"type": "string", "description": "The memory key."},
                "value": {"description": "The value: text or any JSON value."},
                "ttl": {"type": "string", "description": "Optional lifetime, like `90s`, `15m`, `2h` or `7d`; forever if absent."}
            },
            "required": ["key", "value"]
        })
    }

    fn call(&self, arguments: &Value) -> ToolResult {
        let key = string_arg(arguments, "key")?;
        // The learned rules go into every system message; only the user may change them,
        // so a prompt-injected model cannot plant a standing instruction.
        if key.starts_with(RULES_PREFIX) {
            return Err(ToolError(format!(
                "keys under `{RULES_PREFIX}` hold the user's learned rules and cannot be set by a tool"
            )));
        }
        let value = arguments
            .get("value")
            .cloned()
            .ok_or("missing argument `value`")?;
        let ttl = arguments
            .get("ttl")
            .and_then(Value::as_str)
            .map(memory::parse_duration)
            .transpose()?;
        self.0.set(key, value, ttl, now())?;
        Ok(format!("stored `{key}`"))
    }
}

impl Tool for MemoryKeys {
    fn name(&self) -> &str {
        "memory_keys"
    }

    fn description(&self) -> &str {
        "List the keys stored in long-term memory."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }

    fn call(&self, _arguments: &Value) -> ToolResult {
        let keys = self.0.keys(now())?;
        Ok(serde_json::to_string(&keys).expect("strings serialise"))
    }
}
