//! `tools`: the registered tools and their parameters.

use crate::config::Config;
use crate::error::Result;
use crate::output;
use crate::tools::{Caller, Registry};
use serde_json::Value;

/// Prints each tool with one line per parameter: name, type, required or optional, about.
/// `refresh` lists the MCP servers' tools from the servers, not the cache.
pub fn list(config: &Config, refresh: bool) -> Result<()> {
    crate::process_group::kill_groups_on_signals();
    let registry = if refresh {
        Registry::refreshed(config, Caller::User)
    } else {
        Registry::new(config, Caller::User)
    };
    for tool in registry.iter() {
        output::line(&format!("{} — {}", tool.name(), tool.description()))?;
        let parameters = tool.parameters();
        let required: Vec<&str> = parameters["required"]
            .as_array()
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(properties) = parameters["properties"].as_object() {
            for (name, schema) in properties {
                let kind = schema["type"].as_str().unwrap_or("any");
                let need = if required.contains(&name.as_str()) {
                    "required"
                } else {
                    "optional"
                };
                let about = schema["description"].as_str().unwrap_or("");
                output::line(format!("    {name} ({kind}, {need}) {about}").trim_end())?;
            }
        }
    }
    Ok(())
}
