//! Carries out each parsed command: one function per command, grouped by area in the files
//! beside this one. Each loads what it needs, calls the core, and prints the result.

mod agent;
mod chat;
mod cron;
mod doctor;
mod job_work;
mod log;
mod memory;
mod notify;
mod table;
mod tools;

use crate::cli::{self, Command};
use crate::config::Config;
use crate::error::Result;
use crate::output;

/// Runs one command.
pub fn execute(command: Command) -> Result<()> {
    match command {
        Command::Help(None) => output::write(cli::MAIN_HELP),
        Command::Help(Some(name)) => output::write(cli::command_help(name).unwrap_or_default()),
        Command::Version => output::line(concat!("nanopy ", env!("CARGO_PKG_VERSION"))),
        command => {
            let config = Config::load()?;
            execute_with_config(command, &config)
        }
    }
}

fn execute_with_config(command: Command, config: &Config) -> Result<()> {
    match command {
        Command::Agent(args) => agent::turn(config, args),
        Command::Notify { words } => notify::run(config, &words),
        Command::Chat(args) => chat::run(config, args),
        Command::CronAdd { name, job, replace } => cron::add(config, name, job, replace),
        Command::CronEdit { name, job } => cron::edit(config, &name, job),
        Command::CronList { json } => cron::list(config, json),
        Command::CronRemove { name } => cron::remove(config, &name),
        Command::CronEnable { name } => cron::enable(config, &name, true),
        Command::CronDisable { name } => cron::enable(config, &name, false),
        Command::CronNext {
            when,
            count,
            tz,
            from,
        } => cron::next(&when, count, tz, from),
        Command::CronRun { once } => cron::run(config, once),
        Command::Serve => cron::serve(config),
        Command::CronFire { name } => cron::fire(config, &name),
        Command::CronHistory { name, limit, json } => cron::history(config, name, limit, json),
        Command::MemoryGet { key } => memory::get(config, &key),
        Command::MemorySet { key, value, ttl } => memory::set(config, &key, value, ttl),
        Command::MemoryDelete { key } => memory::delete(config, &key),
        Command::MemoryKeys => memory::keys(config),
        Command::Rules => memory::rules(config),
        Command::RulesForget { number } => memory::rules_forget(config, number),
        Command::RulesClear => memory::rules_clear(config),
        Command::Log {
            count,
            session,
            job,
            json,
        } => log::list(config, count, crate::log::Filter { session, job }, json),
        Command::Sessions { json } => log::sessions(config, json),
        Command::SessionClear { name } => log::clear(config, &name),
        Command::Usage { since, json } => log::usage(config, since, json),
        Command::Tools { refresh } => tools::list(config, refresh),
        Command::Config => show_config(config),
        Command::Doctor => doctor::run(config),
        Command::Help(_) | Command::Version => unreachable!("handled before loading config"),
    }
}

/// `config`: the file in use and the effective configuration, keys redacted.
fn show_config(config: &Config) -> Result<()> {
    output::line(&format!("config file: {}", config.config_path.display()))?;
    output::json(&config.to_redacted_json())
}
