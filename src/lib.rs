//! nanopybot: a small, blocking command-line AI agent with learned rules, a JSON memory and a
//! cron scheduler. `run` is the whole program; `main.rs` only maps its error to an exit code.

#![forbid(unsafe_code)]

pub mod agent;
pub mod atomic_file;
pub mod cli;
mod commands;
pub mod config;
pub mod cron;
pub mod error;
pub mod feedback;
pub mod memory;
mod output;
pub mod provider;
pub mod rules;
pub mod tools;
mod truncate;

pub use error::{Error, Result};

use std::ffi::OsString;

/// Runs the command line `args` (without the program name).
pub fn run(args: Vec<OsString>) -> Result<()> {
    let command = cli::parse(args)?;
    commands::execute(command)
}
