//! What the era logic needs of a transport: send a request and wait (with a deadline) for
//! its answer, send a notification, and shut down.

use super::protocol::RpcError;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// A server's answer to one request: its result, or the JSON-RPC error it sent.
pub type Answer = Result<Value, RpcError>;

/// Why a server cannot be used (for the rest of this turn).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// No answer in time.
    Timeout,
    /// It did not start, exited, closed its output, wrote something that is not JSON-RPC, or
    /// could not be reached; what happened.
    Broken(String),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Timeout => f.write_str("no answer in time"),
            Fault::Broken(why) => f.write_str(why),
        }
    }
}

/// One connection to one MCP server.
pub trait Transport {
    /// Sends a request and waits at most `timeout` for its answer. Requests the server sends
    /// meanwhile are answered; notifications are noted or dropped.
    fn request(&mut self, method: &str, params: Value, timeout: Duration) -> Result<Answer, Fault>;
    /// Sends a notification (no answer expected).
    fn notify(&mut self, method: &str) -> Result<(), Fault>;
    /// Whether the server said its tool list changed since the last look.
    fn take_list_changed(&mut self) -> bool;
    /// Once the era is known: what later requests must carry (HTTP headers).
    fn set_era(&mut self, _era: &super::protocol::Era) {}
    /// The listed tools this transport can call: HTTP mirrors arguments into headers as the
    /// schemas ask, and leaves out a tool whose annotations break the rules.
    fn accept_tools(
        &mut self,
        tools: Vec<super::protocol::ServerTool>,
    ) -> Vec<super::protocol::ServerTool> {
        tools
    }
    /// Ends the connection; a child process is reaped.
    fn shutdown(&mut self);
}
