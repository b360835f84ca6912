//! The `mcp` object (SPEC §10): each server's entry checked key by key, with errors that name
//! the file, line and column; and the redacted form `config` and `doctor` show.

use super::file::syntax_error_at;
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// One MCP server of the `mcp` object (SPEC §10).
#[derive(Debug, Clone, PartialEq)]
pub struct McpServer {
    pub name: String,
    pub launch: McpLaunch,
    /// `tools`: only these of its tools are offered; `None` offers all.
    pub tools: Option<Vec<String>>,
    pub disabled: bool,
    pub startup_timeout_secs: u64,
    pub tool_timeout_secs: u64,
    /// Changes whenever anything in its entry changes; keys the tool cache.
    pub fingerprint: String,
}

/// How an MCP server is reached.
#[derive(Debug, Clone, PartialEq)]
pub enum McpLaunch {
    /// A child process speaking JSON-RPC on stdin and stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
    },
    /// A Streamable HTTP endpoint.
    Http {
        url: String,
        headers: BTreeMap<String, String>,
    },
}

/// The keys of one `mcp` entry.
pub const MCP_KEYS: &[&str] = &[
    "command",
    "args",
    "env",
    "url",
    "headers",
    "tools",
    "disabled",
    "startup_timeout_secs",
    "tool_timeout_secs",
];
const DEFAULT_MCP_STARTUP_TIMEOUT_SECS: u64 = 30;
const DEFAULT_MCP_TOOL_TIMEOUT_SECS: u64 = 60;

/// Checks and reads the `mcp` entries; an error names the file, line and column.
pub fn servers(
    path: &Path,
    text: &str,
    entries: BTreeMap<String, Value>,
) -> Result<Vec<McpServer>> {
    entries
        .into_iter()
        .map(|(name, entry)| {
            Entry {
                path,
                text,
                name: &name,
            }
            .server(&entry)
        })
        .collect()
}

/// One entry being read: where it is, for error messages.
struct Entry<'a> {
    path: &'a Path,
    text: &'a str,
    name: &'a str,
}

impl Entry<'_> {
    fn server(&self, entry: &Value) -> Result<McpServer> {
        let name = self.name;
        if name.trim().is_empty() {
            return Err(self.fail(None, "an MCP server needs a name".into()));
        }
        let Value::Object(map) = entry else {
            return Err(self.fail(None, format!("MCP server `{name}` must be an object")));
        };
        Ok(McpServer {
            launch: self.launch(map)?,
            tools: self.strings(map, "tools")?,
            disabled: self.flag(map, "disabled")?,
            startup_timeout_secs: self.seconds(
                map,
                "startup_timeout_secs",
                DEFAULT_MCP_STARTUP_TIMEOUT_SECS,
            )?,
            tool_timeout_secs: self.seconds(
                map,
                "tool_timeout_secs",
                DEFAULT_MCP_TOOL_TIMEOUT_SECS,
            )?,
            fingerprint: fingerprint(entry),
            name: name.to_string(),
        })
    }

    /// `command` (stdio, with `args` and `env`) or `url` (HTTP, with `headers`): exactly one.
    fn launch(&self, map: &Map<String, Value>) -> Result<McpLaunch> {
        let name = self.name;
        match (self.string(map, "command")?, self.string(map, "url")?) {
            (Some(command), None) => Ok(McpLaunch::Stdio {
                command,
                args: self.strings(map, "args")?.unwrap_or_default(),
                env: self.table(map, "env")?,
            }),
            (None, Some(url)) if url.starts_with("http://") || url.starts_with("https://") => {
                Ok(McpLaunch::Http {
                    url,
                    headers: self.table(map, "headers")?,
                })
            }
            (None, Some(_)) => Err(self.fail(
                Some("url"),
                format!("`mcp.{name}.url` must start with http:// or https://"),
            )),
            _ => Err(self.fail(
                None,
                format!(
                    "MCP server `{name}` needs exactly one of `command` (stdio) or `url` (HTTP)"
                ),
            )),
        }
    }

    fn string(&self, map: &Map<String, Value>, key: &str) -> Result<Option<String>> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) if !value.trim().is_empty() => Ok(Some(value.clone())),
            Some(_) => Err(self.wrong(key, "a non-empty string")),
        }
    }

    fn strings(&self, map: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            )),
            Some(_) => Err(self.wrong(key, "a list of strings")),
        }
    }

    fn table(&self, map: &Map<String, Value>, key: &str) -> Result<BTreeMap<String, String>> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(items)) if items.values().all(Value::is_string) => Ok(items
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()),
            Some(_) => Err(self.wrong(key, "an object of strings")),
        }
    }

    fn seconds(&self, map: &Map<String, Value>, key: &str, default: u64) -> Result<u64> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(value) => value
                .as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| self.wrong(key, "a whole number of seconds above 0")),
        }
    }

    fn flag(&self, map: &Map<String, Value>, key: &str) -> Result<bool> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(self.wrong(key, "true or false")),
        }
    }

    /// `mcp.NAME.KEY must be WHAT`, pointing at the key.
    fn wrong(&self, key: &str, what: &str) -> Error {
        self.fail(
            Some(key),
            format!("`mcp.{}.{key}` must be {what}", self.name),
        )
    }

    /// An error pointing at the entry (or its `key`).
    fn fail(&self, key: Option<&str>, message: String) -> Error {
        let mut at = vec!["mcp", self.name];
        at.extend(key);
        syntax_error_at(self.path, self.text, &at, message)
    }
}

/// An MCP entry for `config` and `doctor`: header and environment values are redacted,
/// because they are where tokens live.
pub fn redacted(server: &McpServer) -> Value {
    let redact = |map: &BTreeMap<String, String>| -> Map<String, Value> {
        map.keys()
            .map(|key| (key.clone(), Value::String("(redacted)".into())))
            .collect()
    };
    let mut entry = match &server.launch {
        McpLaunch::Stdio { command, args, env } => {
            serde_json::json!({"command": command, "args": args, "env": redact(env)})
        }
        McpLaunch::Http { url, headers } => {
            serde_json::json!({"url": url, "headers": redact(headers)})
        }
    };
    entry["tools"] = serde_json::json!(server.tools);
    entry["disabled"] = Value::Bool(server.disabled);
    entry["startup_timeout_secs"] = server.startup_timeout_secs.into();
    entry["tool_timeout_secs"] = server.tool_timeout_secs.into();
    entry
}

/// A fingerprint of a configuration value: FNV-1a (64 bits) of its JSON (keys sorted), hex.
pub fn fingerprint(value: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}
