//! One server, either era, over any transport: the probe that tells the eras apart
//! (`server/discover`, then `initialize` for a legacy server), every page of `tools/list`,
//! and `tools/call` with its `input_required` rounds.

use super::protocol::{self, CallOutcome, Era, Probe, ServerTool};
use super::transport::{Fault, Transport};
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// A server we have talked to and know the era of.
pub struct Client {
    transport: Box<dyn Transport>,
    era: Era,
}

/// How a call ended for the model: its text, or the error text it gets.
pub type CallResult = Result<String, String>;

impl Client {
    /// Opens `transport`: probes with `server/discover` (a third of `startup` at most: a
    /// legacy server may stay silent), then, for a legacy server, `initialize` and
    /// `notifications/initialized` in the time left.
    pub fn connect(mut transport: Box<dyn Transport>, startup: Duration) -> Result<Client, Fault> {
        let started = Instant::now();
        let probe_wait = startup / 3;
        let answer =
            match transport.request("server/discover", protocol::discover_params(), probe_wait) {
                Ok(answer) => Some(answer),
                Err(Fault::Timeout) => None,
                Err(fault) => return Err(fault),
            };
        let legacy_version = match protocol::classify_probe(answer.as_ref()) {
            Probe::Modern(version) => {
                let era = Era::Modern(version);
                transport.set_era(&era);
                return Ok(Client { transport, era });
            }
            Probe::Unusable(why) => return Err(Fault::Broken(why)),
            Probe::LegacyVersion(version) => version,
            Probe::Legacy => protocol::LEGACY_VERSION.to_string(),
        };
        let left = startup
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(100));
        let result = transport
            .request(
                "initialize",
                protocol::initialize_params(&legacy_version),
                left,
            )
            .map_err(|fault| late(fault, "`initialize`", "startup_timeout_secs", startup))?
            .map_err(|error| Fault::Broken(format!("`initialize` failed: {error}")))?;
        let version = protocol::accepted_legacy_version(&result).map_err(Fault::Broken)?;
        let era = Era::Legacy(version);
        transport.set_era(&era);
        transport.notify("notifications/initialized")?;
        Ok(Client { transport, era })
    }

    pub fn era(&self) -> &Era {
        &self.era
    }

    /// Every page of the server's tools.
    pub fn list_tools(&mut self, timeout: Duration) -> Result<Vec<ServerTool>, Fault> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..protocol::MAX_PAGES {
            let mut params = Map::new();
            if let Some(cursor) = &cursor {
                params.insert("cursor".into(), json!(cursor));
            }
            let result = self
                .transport
                .request("tools/list", protocol::params(&self.era, params), timeout)
                .map_err(|fault| late(fault, "`tools/list`", "startup_timeout_secs", timeout))?
                .map_err(|error| Fault::Broken(format!("`tools/list` failed: {error}")))?;
            let (page, next) = protocol::tools_page(&result).map_err(Fault::Broken)?;
            tools.extend(page);
            match next {
                Some(next) if !next.is_empty() => cursor = Some(next),
                _ => {
                    // A change announced before the list's last page is in that list.
                    self.transport.take_list_changed();
                    return Ok(self.transport.accept_tools(tools));
                }
            }
        }
        Err(Fault::Broken(format!(
            "`tools/list` went on for more than {} pages",
            protocol::MAX_PAGES
        )))
    }

    /// Calls `tool`. A fault means the server is unusable; a JSON-RPC error or an `isError`
    /// result is the call's error text, and "invalid params" is [`Call::Stale`].
    pub fn call(
        &mut self,
        tool: &str,
        arguments: &Value,
        timeout: Duration,
    ) -> Result<Call, Fault> {
        let deadline = Instant::now() + timeout;
        let mut extra = Map::new();
        for _ in 0..=protocol::MAX_INPUT_ROUNDS {
            let mut params = extra.clone();
            params.insert("name".into(), json!(tool));
            params.insert("arguments".into(), arguments.clone());
            let left = deadline.saturating_duration_since(Instant::now());
            let answer = self
                .transport
                .request("tools/call", protocol::params(&self.era, params), left)
                .map_err(|fault| late(fault, "the call", "tool_timeout_secs", timeout))?;
            let result = match answer {
                Ok(result) => result,
                // Invalid params is what servers answer for a tool they no longer have.
                Err(error) if error.code == -32602 => return Ok(Call::Stale(error.to_string())),
                Err(error) => {
                    return Ok(Call::Done(Err(format!(
                        "the server refused the call: {error}"
                    ))));
                }
            };
            match protocol::call_outcome(&result) {
                CallOutcome::Done(result) => return Ok(Call::Done(result)),
                CallOutcome::Again {
                    input_responses,
                    request_state,
                } => {
                    extra = Map::new();
                    extra.insert("inputResponses".into(), input_responses);
                    if let Some(state) = request_state {
                        extra.insert("requestState".into(), json!(state));
                    }
                }
            }
        }
        Ok(Call::Done(Err(format!(
            "the server asked for input more than {} times",
            protocol::MAX_INPUT_ROUNDS
        ))))
    }

    /// Tells the transport a tool known from the cache, for a call made without listing
    /// first (HTTP mirrors arguments into headers as the tool's schema asks).
    pub fn know_tool(&mut self, tool: &ServerTool) {
        let _ = self.transport.accept_tools(vec![tool.clone()]);
    }

    /// Whether the server announced a changed tool list.
    pub fn list_changed(&mut self) -> bool {
        self.transport.take_list_changed()
    }

    pub fn shutdown(&mut self) {
        self.transport.shutdown();
    }
}

/// A timeout past the probe is a broken server, named by what it did not answer and the
/// setting that bounded the wait.
fn late(fault: Fault, what: &str, setting: &str, limit: Duration) -> Fault {
    match fault {
        Fault::Timeout => Fault::Broken(format!(
            "no answer to {what} within {setting} ({} s)",
            limit.as_secs()
        )),
        other => other,
    }
}

/// How a call went, short of a fault.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Done(CallResult),
    /// The server did not know the tool or its arguments (invalid params): the cached list
    /// may be stale.
    Stale(String),
}
