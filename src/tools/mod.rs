//! The tools the model (and the `tool:` shortcut) can call: the `Tool` trait and the registry.

mod cron;
mod datetime;
mod mcp;
mod memory;
mod shell;
mod time;

use crate::config::Config;
use crate::memory::Memory;
use serde_json::{Value, json};
use std::cell::OnceCell;
use std::fmt;
use std::rc::Rc;

/// Tool output handed to the model is capped, so one noisy tool cannot flood the context.
pub const MAX_RESULT_CHARS: usize = 16 * 1024;

/// Why a tool call failed. Its text goes back to the model (or, for `tool:`, to the user),
/// so it says what was wrong in words the model can act on.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError(pub String);

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<crate::error::Error> for ToolError {
    fn from(error: crate::error::Error) -> ToolError {
        ToolError(error.to_string())
    }
}

impl From<String> for ToolError {
    fn from(text: String) -> ToolError {
        ToolError(text)
    }
}

impl From<&str> for ToolError {
    fn from(text: &str) -> ToolError {
        ToolError(text.to_string())
    }
}

/// What a tool call returns: its output, or why it failed.
pub type ToolResult = Result<String, ToolError>;

/// A function the model may call.
pub trait Tool {
    /// The name the model calls it by.
    fn name(&self) -> &str;
    /// One sentence telling the model when to use it.
    fn description(&self) -> &str;
    /// The JSON Schema of its arguments (an object schema).
    fn parameters(&self) -> Value;
    /// Runs it.
    fn call(&self, arguments: &Value) -> ToolResult;
}

/// Who the turn is for, which decides the tools on offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A person at a terminal or a script.
    User,
    /// A scheduled job: it gets no scheduling tools, so a job cannot breed jobs.
    Job,
}

/// The registered tools, in the order they are offered: the built-in ones, then those of
/// the MCP servers, which are looked up (in the cache, or from the servers) only when first
/// needed, so a turn with `--no-tools` never touches them.
pub struct Registry {
    tools: Vec<Box<dyn Tool>>,
    mcp: Option<Rc<crate::mcp::Servers>>,
    mcp_tools: OnceCell<Vec<Box<dyn Tool>>>,
    /// `tools --refresh`: list every server again instead of trusting the cache.
    refresh: bool,
}

impl Registry {
    /// The built-in tools for this configuration and caller.
    pub fn new(config: &Config, caller: Caller) -> Registry {
        let memory = Memory::open(&config.memory_path);
        let mut tools: Vec<Box<dyn Tool>> = vec![
            Box::new(time::Time),
            Box::new(datetime::DateTime),
            Box::new(memory::MemoryGet(memory.clone())),
            Box::new(memory::MemorySet(memory.clone())),
            Box::new(memory::MemoryKeys(memory)),
        ];
        if caller == Caller::User {
            let store = config.scheduler_db_path.clone();
            tools.push(Box::new(cron::CronAdd(store.clone())));
            tools.push(Box::new(cron::CronList(store.clone())));
            tools.push(Box::new(cron::CronRemove(store)));
        }
        if !config.shell_allow.is_empty() {
            tools.push(Box::new(shell::Shell::new(
                config.shell_allow.clone(),
                config.shell_timeout_secs,
            )));
        }
        Registry {
            tools,
            mcp: crate::mcp::Servers::new(config).map(Rc::new),
            mcp_tools: OnceCell::new(),
            refresh: false,
        }
    }

    /// As [`Registry::new`], but MCP tool lists are fetched from the servers, not the cache.
    pub fn refreshed(config: &Config, caller: Caller) -> Registry {
        Registry {
            refresh: true,
            ..Registry::new(config, caller)
        }
    }

    /// A registry of exactly these tools, for tests of the tool-call loop.
    #[cfg(test)]
    pub fn from_tools(tools: Vec<Box<dyn Tool>>) -> Registry {
        Registry {
            tools,
            mcp: None,
            mcp_tools: OnceCell::new(),
            refresh: false,
        }
    }

    /// The tool called `name`, if registered.
    pub fn get(&self, name: &str) -> Option<&dyn Tool> {
        self.iter().find(|tool| tool.name() == name)
    }

    /// Every tool, in order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Tool> {
        self.tools
            .iter()
            .chain(self.mcp_tools())
            .map(|tool| tool.as_ref())
    }

    /// The MCP servers' tools, looked up on first use.
    fn mcp_tools(&self) -> &[Box<dyn Tool>] {
        self.mcp_tools.get_or_init(|| {
            let Some(servers) = &self.mcp else {
                return Vec::new();
            };
            let taken: Vec<&str> = self.tools.iter().map(|tool| tool.name()).collect();
            servers
                .offered(self.refresh, &taken)
                .into_iter()
                .map(|offered| {
                    Box::new(mcp::McpTool::new(Rc::clone(servers), offered)) as Box<dyn Tool>
                })
                .collect()
        })
    }

    /// Readies the registry for its agent's next turn: MCP servers that failed are tried
    /// again, and when a server's tool list changed (or one was left out) the MCP tools are
    /// listed anew on next use. Running servers stay up.
    pub fn end_turn(&mut self) {
        if let Some(servers) = &self.mcp
            && servers.end_turn()
        {
            self.mcp_tools.take();
        }
    }

    /// The names, comma separated, for error messages.
    pub fn names(&self) -> String {
        self.iter().map(Tool::name).collect::<Vec<_>>().join(", ")
    }

    /// The tools in the OpenAI function-calling format.
    pub fn schemas(&self) -> Vec<Value> {
        self.iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name(),
                        "description": tool.description(),
                        "parameters": tool.parameters(),
                    }
                })
            })
            .collect()
    }

    /// Runs a call from the model. Every failure becomes text for the model: an unknown
    /// tool or bad arguments must not end the turn.
    pub fn call_for_model(&self, name: &str, arguments: &str) -> String {
        let Some(tool) = self.get(name) else {
            return format!(
                "error: unknown tool `{name}`; available tools: {}",
                self.names()
            );
        };
        let arguments = match serde_json::from_str::<Value>(arguments) {
            Ok(Value::Null) => json!({}),
            Ok(value @ Value::Object(_)) => value,
            Ok(_) => return "error: arguments must be a JSON object".into(),
            Err(error) => return format!("error: arguments are not valid JSON: {error}"),
        };
        match tool.call(&arguments) {
            Ok(result) => cap(result),
            Err(error) => cap(format!("error: {error}")),
        }
    }
}

/// Cuts tool output to [`MAX_RESULT_CHARS`], saying so.
pub fn cap(text: String) -> String {
    crate::truncate::to_bytes(text, MAX_RESULT_CHARS)
}

/// A required string argument.
fn string_arg<'a>(arguments: &'a Value, name: &str) -> Result<&'a str, ToolError> {
    arguments
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError(format!("missing string argument `{name}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_cuts_long_output_on_a_char_boundary() {
        let long = "é".repeat(MAX_RESULT_CHARS);
        let capped = cap(long);
        assert!(capped.len() < MAX_RESULT_CHARS + 100);
        assert!(capped.ends_with("bytes in all]"));
        assert_eq!(cap("short".into()), "short");
    }
}
