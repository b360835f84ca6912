//! MCP tools (SPEC §10): the configured servers of one turn. Tool lists come from the cache
//! when it is fresh, so a turn that calls no MCP tool starts no server; a server is started
//! on its first call (or when its list must be fetched), kept for the rest of the turn, and
//! shut down when the turn ends. A fault costs that server's tools for this turn, never the
//! turn: one `warning:` line, and error text for the model.

mod cache;
mod client;
mod http;
pub mod protocol;
mod stdio;
mod transport;

use crate::config::{Config, McpLaunch, McpServer};
use cache::{Cache, Entry};
use client::{Call, Client};
use protocol::ServerTool;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;
use transport::{Fault, Transport};

/// A tool of an MCP server, as offered to the model.
#[derive(Debug, Clone)]
pub struct Offered {
    pub model_name: String,
    pub server: String,
    pub tool: ServerTool,
}

/// What `doctor` learns of a server: its era and version, and its tools' names.
pub type Checked = (String, Vec<String>);

/// A server's state within this turn.
enum Slot {
    Up(Client),
    /// Unusable this turn, and why (said once in a warning).
    Down(String),
}

/// The MCP servers of one turn.
pub struct Servers {
    servers: Vec<McpServer>,
    cache: RefCell<Cache>,
    slots: RefCell<BTreeMap<String, Slot>>,
    /// The turn's clock reading, for the cache's age.
    now: Cell<i64>,
    /// A list was fetched or dropped after the tools were offered: offer them anew.
    relist: Cell<bool>,
}

impl Servers {
    /// The enabled servers of `config`; `None` when there are none. Reads only the cache.
    pub fn new(config: &Config) -> Option<Servers> {
        let servers: Vec<McpServer> = config
            .mcp
            .iter()
            .filter(|server| !server.disabled)
            .cloned()
            .collect();
        if servers.is_empty() {
            return None;
        }
        Some(Servers {
            servers,
            cache: RefCell::new(Cache::load(&config.data_dir.join("mcp-tools.json"))),
            slots: RefCell::new(BTreeMap::new()),
            now: Cell::new(crate::clock::now()),
            relist: Cell::new(false),
        })
    }

    /// Every tool to offer, named for the model (`taken`: names already in use). A list
    /// that is not cached fresh (or every list, with `refresh`) is fetched from its server;
    /// a server that fails is left out with a warning.
    pub fn offered(&self, refresh: bool, taken: &[&str]) -> Vec<Offered> {
        let mut found: Vec<(String, ServerTool)> = Vec::new();
        for server in &self.servers {
            let cached = if refresh {
                None
            } else {
                self.cache
                    .borrow()
                    .fresh(&server.name, &server.fingerprint, self.now.get())
            };
            let tools = match cached {
                Some(entry) => entry.tools,
                None => match self.fetch_list(server) {
                    Ok(tools) => tools,
                    Err(_) => continue,
                },
            };
            found.extend(
                tools
                    .into_iter()
                    .filter(|tool| allowed(server, &tool.name))
                    .map(|tool| (server.name.clone(), tool)),
            );
        }
        let pairs: Vec<(&str, &str)> = found
            .iter()
            .map(|(server, tool)| (server.as_str(), tool.name.as_str()))
            .collect();
        let names = protocol::model_names(&pairs, taken);
        found
            .into_iter()
            .zip(names)
            .map(|((server, tool), model_name)| Offered {
                model_name,
                server,
                tool,
            })
            .collect()
    }

    /// Starts each server and lists its tools, for `doctor`: its era and tool names, or
    /// what went wrong.
    pub fn check_each(&self) -> Vec<(String, Result<Checked, String>)> {
        self.servers
            .iter()
            .map(|server| {
                let listed = self.fetch_list(server).and_then(|tools| {
                    let era = self.with_client(server, |client| {
                        let era = client.era();
                        Ok(format!("{} {}", era.label(), era.version()))
                    })?;
                    Ok((era, tools.into_iter().map(|tool| tool.name).collect()))
                });
                (
                    server.name.clone(),
                    listed.map_err(|fault| fault.to_string()),
                )
            })
            .collect()
    }

    /// Calls `tool` of `server`. Every failure is error text for the model.
    pub fn call(
        &self,
        server: &str,
        tool: &ServerTool,
        arguments: &Value,
    ) -> Result<String, String> {
        let Some(config) = self.servers.iter().find(|s| s.name == server) else {
            return Err(format!("no MCP server `{server}` is configured"));
        };
        let timeout = Duration::from_secs(config.tool_timeout_secs);
        let outcome = self
            .with_client(config, |client| {
                client.know_tool(tool);
                client.call(&tool.name, arguments, timeout)
            })
            .map_err(|fault| format!("MCP server `{server}` failed: {fault}"))?;
        let changed = self.with_client(config, |client| Ok(client.list_changed())) == Ok(true);
        let stale = matches!(outcome, Call::Stale(_));
        // A changed list is fetched while the server is up; so is one the call found stale
        // (the server does not know the tool, or its arguments, as we listed them), so the
        // next turn offers what it really has.
        let listed = (changed || stale).then(|| self.fetch_list(config));
        self.relist.set(self.relist.get() || listed.is_some());
        if changed && matches!(listed, Some(Err(_))) {
            // Only when that fails is the old list dropped, for the next turn to fetch.
            self.cache.borrow_mut().store(&config.name, None);
        }
        match outcome {
            Call::Done(result) => result,
            Call::Stale(error) => {
                let still_there = matches!(&listed, Some(Ok(tools))
                    if tools.iter().any(|t| t.name == tool.name));
                if still_there {
                    Err(format!("the server refused the call: {error}"))
                } else {
                    Err(format!(
                        "MCP server `{server}` no longer has a tool `{}` (its tool list is \
                         refreshed for the next turn)",
                        tool.name
                    ))
                }
            }
        }
    }

    /// Readies the servers for their agent's next turn: the cache's clock moves on, and a
    /// server that failed this turn is tried again next time. Running servers stay up. Says
    /// whether the tools should be offered anew (a list changed, or a server was down).
    pub fn end_turn(&self) -> bool {
        self.now.set(crate::clock::now());
        let mut slots = self.slots.borrow_mut();
        let before = slots.len();
        slots.retain(|_, slot| matches!(slot, Slot::Up(_)));
        self.relist.take() || slots.len() != before
    }

    /// Lists `server`'s tools from the server itself and caches them.
    fn fetch_list(&self, server: &McpServer) -> Result<Vec<ServerTool>, Fault> {
        let timeout = Duration::from_secs(server.startup_timeout_secs);
        let listed = self.with_client(server, |client| {
            let tools = client.list_tools(timeout)?;
            Ok((tools, client.era().label()))
        });
        let (tools, era) = listed?;
        let entry = Entry {
            fingerprint: server.fingerprint.clone(),
            fetched_at: self.now.get(),
            era: era.to_string(),
            tools: tools.clone(),
        };
        self.cache.borrow_mut().store(&server.name, Some(&entry));
        Ok(tools)
    }

    /// Runs `work` with the server's client, starting it first if needed. A fault marks the
    /// server down for the turn (with its one warning) and shuts it down.
    fn with_client<T>(
        &self,
        server: &McpServer,
        work: impl FnOnce(&mut Client) -> Result<T, Fault>,
    ) -> Result<T, Fault> {
        let mut slots = self.slots.borrow_mut();
        if !slots.contains_key(&server.name) {
            let slot = match connect(server) {
                Ok(client) => Slot::Up(client),
                Err(fault) => {
                    let why = fault.to_string();
                    warn(server, &why);
                    Slot::Down(why)
                }
            };
            slots.insert(server.name.clone(), slot);
        }
        let slot = slots.get_mut(&server.name).expect("inserted above");
        let client = match slot {
            Slot::Up(client) => client,
            Slot::Down(why) => return Err(Fault::Broken(why.clone())),
        };
        let result = work(client);
        if let Err(fault) = &result {
            let why = fault.to_string();
            client.shutdown();
            warn(server, &why);
            *slot = Slot::Down(why);
        }
        result
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for (name, slot) in self.slots.get_mut().iter_mut() {
            if let Slot::Up(client) = slot {
                client.shutdown();
                // After shutdown everything the server wrote has been read; a change
                // announced this late is fetched by the next turn that needs the list.
                if client.list_changed() {
                    self.cache.get_mut().store(name, None);
                }
            }
        }
    }
}

/// Whether the server's `tools` allow list lets `tool` through.
fn allowed(server: &McpServer, tool: &str) -> bool {
    server
        .tools
        .as_ref()
        .is_none_or(|list| list.iter().any(|name| name == tool))
}

fn warn(server: &McpServer, why: &str) {
    crate::notice::warning(&format!(
        "MCP server `{}`: {why}; its tools are not available in this turn",
        server.name
    ));
}

/// Starts (stdio) or reaches (HTTP) a server and settles its era.
fn connect(server: &McpServer) -> Result<Client, Fault> {
    let startup = Duration::from_secs(server.startup_timeout_secs);
    let transport: Box<dyn Transport> = match &server.launch {
        McpLaunch::Stdio { command, args, env } => {
            Box::new(stdio::StdioServer::start(&stdio::Launch {
                name: &server.name,
                command,
                args,
                env,
            })?)
        }
        McpLaunch::Http { url, headers } => {
            Box::new(http::HttpServer::new(&server.name, url, headers))
        }
    };
    Client::connect(transport, startup)
}
