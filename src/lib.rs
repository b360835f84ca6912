//! nanopybot: a small, blocking command-line AI agent with learned rules, a JSON memory and a
//! cron scheduler. `run` is the whole program; `main.rs` only maps its error to an exit code.
//!
//! Every module is private: the binary is the only user, so the compiler sees dead code.

#![deny(unsafe_code)]

mod agent;
mod atomic_file;
mod chat;
mod child;
mod cli;
mod clock;
mod commands;
mod config;
mod consistency;
mod conversation;
mod cron;
mod database;
mod deliver;
mod duration;
mod error;
mod fallback;
mod feedback;
mod history;
mod http;
mod input;
mod json_shape;
mod log;
mod mcp;
mod memory;
mod names;
mod notice;
mod output;
mod process_group;
mod provider;
mod reasoning;
mod rules;
mod schema;
mod service;
#[cfg(test)]
mod test_support;
mod text_calls;
mod tools;
mod truncate;
mod turn;
mod wal;
mod zone;

pub use error::{Error, Result};

use std::ffi::OsString;

/// The command the arguments name, when their first is one (`cron-add`, not `--bogus`).
pub fn command_named(args: &[OsString]) -> Option<&'static str> {
    let first = args.first()?.to_str()?;
    cli::command_help(first).map(|_| cli::canonical(first))
}

/// Runs the command line `args` (without the program name).
pub fn run(args: Vec<OsString>) -> Result<()> {
    let command = cli::parse(args)?;
    commands::execute(command)
}
