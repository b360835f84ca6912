//! Carries out each parsed command: loads what it needs, calls the core, prints the result.

use crate::agent::{self, TurnOptions};
use crate::cli::{self, Command};
use crate::config::Config;
use crate::cron::schedule::{Schedule, format_in, load_zone, system_zone_name};
use crate::cron::store::{Job, NewJob, Run, Store};
use crate::cron::{
    self,
    runner::{self, unknown_job},
};
use crate::error::{Error, Result};
use crate::memory::{self, Memory};
use crate::output;
use crate::provider::Provider;
use crate::rules;
use crate::tools::{Caller, Registry};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

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
        Command::Agent {
            message,
            model,
            json,
            stream,
            no_tools,
        } => agent_turn(config, message, model, json, stream, no_tools),
        Command::CronAdd {
            name,
            message,
            cron,
            tz,
            grace,
            notify,
            replace,
        } => {
            let job = NewJob {
                name,
                message,
                cron,
                tz: tz.unwrap_or_else(system_zone_name),
                grace_secs: grace.unwrap_or(cron::DEFAULT_GRACE_SECS),
                notify,
            };
            cron_add(config, job, replace)
        }
        Command::CronList { json } => cron_list(config, json),
        Command::CronRemove { name } => {
            let mut store = Store::open(&config.scheduler_db_path)?;
            if !store.remove(&name)? {
                return Err(unknown_job(&name));
            }
            output::line(&format!("removed job `{name}`"))
        }
        Command::CronEnable { name } => cron_enable(config, &name, true),
        Command::CronDisable { name } => cron_enable(config, &name, false),
        Command::CronNext {
            expression,
            count,
            tz,
            from,
        } => cron_next(&expression, count, tz, from),
        Command::CronRun { once: false } => runner::run_daemon(config),
        Command::CronRun { once: true } => match runner::run_once(config)? {
            true => Ok(()),
            false => Err(Error::Failed(
                "at least one job failed (see `nanopy cron-history`)".into(),
            )),
        },
        Command::CronFire { name } => {
            if runner::fire_now(config, &name)? {
                Ok(())
            } else {
                Err(Error::Failed(format!("job `{name}` failed")))
            }
        }
        Command::CronHistory { name, limit, json } => cron_history(config, name, limit, json),
        Command::MemoryGet { key } => {
            let memory = Memory::open(&config.memory_path);
            match memory.get(&key, now())? {
                Some(Value::String(text)) => output::line(&text),
                Some(value) => output::line(&value.to_string()),
                None => Err(Error::Failed(format!("no memory key `{key}`"))),
            }
        }
        Command::MemorySet { key, value, ttl } => {
            let ttl = ttl.as_deref().map(memory::parse_duration).transpose()?;
            // A value that parses as JSON is stored as JSON, anything else as a string.
            let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
            Memory::open(&config.memory_path).set(&key, value, ttl, now())
        }
        Command::MemoryDelete { key } => {
            if Memory::open(&config.memory_path).delete(&key, now())? {
                Ok(())
            } else {
                Err(Error::Failed(format!("no memory key `{key}`")))
            }
        }
        Command::MemoryKeys => {
            for key in Memory::open(&config.memory_path).keys(now())? {
                output::line(&key)?;
            }
            Ok(())
        }
        Command::Rules => {
            for rule in rules::list(&Memory::open(&config.memory_path), now())? {
                output::line(&rule)?;
            }
            Ok(())
        }
        Command::RulesClear => {
            let count = rules::clear(&Memory::open(&config.memory_path), now())?;
            output::line(&format!("forgot {count} rule(s)"))
        }
        Command::Tools => list_tools(config),
        Command::Config => {
            output::line(&format!("config file: {}", config.config_path.display()))?;
            output::json(&config.to_redacted_json())
        }
        Command::Doctor => doctor(config),
        Command::Help(_) | Command::Version => unreachable!("handled before loading config"),
    }
}

fn agent_turn(
    config: &Config,
    words: Vec<String>,
    model: Option<String>,
    json: bool,
    stream: bool,
    no_tools: bool,
) -> Result<()> {
    let message = if words.is_empty() || words == ["-"] {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| {
                Error::Input(format!("cannot read the message from stdin: {error}"))
            })?;
        text
    } else {
        words.join(" ")
    };
    if message.trim().is_empty() {
        return Err(Error::Usage(
            "`nanopy agent` needs a message, as arguments or on stdin".into(),
        ));
    }
    let options = TurnOptions {
        model,
        stream,
        no_tools,
        caller: Caller::User,
    };
    // Streamed text goes out as it arrives, except under --json, which prints one document.
    let mut printed = false;
    let mut print_error = None;
    let mut on_text = |text: &str| {
        if !json && print_error.is_none() {
            printed = true;
            print_error = output::write(text).err();
        }
    };
    let turn = agent::run(config, &message, &options, &mut on_text)?;
    if let Some(error) = print_error {
        return Err(error);
    }
    if json {
        let calls: Vec<Value> = turn
            .tool_calls
            .iter()
            .map(|call| json!({"name": call.name, "arguments": call.arguments, "result": call.result}))
            .collect();
        output::json(&json!({
            "reply": turn.reply,
            "tool_calls": calls,
            "rule_learned": turn.rule_learned,
            "model": turn.model,
            "usage": turn.usage,
        }))
    } else if printed {
        output::line("")
    } else {
        output::line(&turn.reply)
    }
}

fn cron_add(config: &Config, job: NewJob, replace: bool) -> Result<()> {
    let mut store = Store::open(&config.scheduler_db_path)?;
    let added = cron::add(&mut store, job, replace, Timestamp::now())?;
    output::line(&added.summary())
}

fn cron_enable(config: &Config, name: &str, enable: bool) -> Result<()> {
    let mut store = Store::open(&config.scheduler_db_path)?;
    let job = store.job(name)?.ok_or_else(|| unknown_job(name))?;
    let now = Timestamp::now();
    let next = if enable {
        runner::next_fire_after(&job, now.as_second())?
    } else {
        None
    };
    store.set_enabled(name, next, now.as_second())?;
    match next {
        Some(next) => output::line(&format!(
            "enabled job `{name}`, next fire {}",
            cron::time_in_zone(Some(next), &job.tz).unwrap_or_default()
        )),
        None => output::line(&format!("disabled job `{name}`")),
    }
}

fn cron_list(config: &Config, json: bool) -> Result<()> {
    let store = Store::open(&config.scheduler_db_path)?;
    let jobs = store.jobs()?;
    if json {
        let items: Vec<Value> = jobs.iter().map(cron::job_json).collect();
        return output::json(&Value::Array(items));
    }
    if jobs.is_empty() {
        return output::line("no jobs (add one with `nanopy cron-add`)");
    }
    let rows: Vec<[String; 6]> = jobs.iter().map(job_row).collect();
    let header = ["NAME", "CRON", "TZ", "ENABLED", "NEXT FIRE", "LAST STATUS"].map(String::from);
    print_table(&header, &rows)
}

fn job_row(job: &Job) -> [String; 6] {
    [
        job.name.clone(),
        job.cron.clone(),
        job.tz.clone(),
        if job.enabled { "yes" } else { "no" }.to_string(),
        cron::time_in_zone(job.next_fire, &job.tz).unwrap_or_else(|| "-".into()),
        job.last_status.clone().unwrap_or_else(|| "-".into()),
    ]
}

fn print_table<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> Result<()> {
    let mut widths = header.each_ref().map(|cell| cell.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        output::line(line.join("  ").trim_end())?;
    }
    Ok(())
}

fn cron_next(
    expression: &str,
    count: usize,
    tz: Option<String>,
    from: Option<String>,
) -> Result<()> {
    let zone_name = tz.unwrap_or_else(system_zone_name);
    let from = match from {
        Some(text) => parse_instant(&text)?,
        None => Timestamp::now(),
    };
    let schedule = Schedule::parse(expression, &zone_name, from)?;
    let mut at = from;
    for _ in 0..count {
        let Some(next) = schedule.next_after(at) else {
            break;
        };
        output::line(&format_in(next, schedule.zone()))?;
        at = next;
    }
    Ok(())
}

fn parse_instant(text: &str) -> Result<Timestamp> {
    text.parse().map_err(|_| {
        Error::Usage(format!(
            "invalid time `{text}`: use RFC 3339 with an offset, like 2026-03-08T00:00:00Z"
        ))
    })
}

fn cron_history(config: &Config, name: Option<String>, limit: i64, json: bool) -> Result<()> {
    let store = Store::open(&config.scheduler_db_path)?;
    if let Some(name) = &name
        && store.job(name)?.is_none()
        && store.runs(Some(name), 1)?.is_empty()
    {
        return Err(unknown_job(name));
    }
    let zones: std::collections::HashMap<String, String> = store
        .jobs()?
        .into_iter()
        .map(|job| (job.name, job.tz))
        .collect();
    let runs = store.runs(name.as_deref(), limit.max(0))?;
    let zone_of = |run: &Run| zones.get(&run.job).cloned().unwrap_or_else(|| "UTC".into());
    if json {
        let items: Vec<Value> = runs
            .iter()
            .map(|run| {
                let tz = zone_of(run);
                json!({
                    "job": run.job,
                    "scheduled_at": cron::time_in_zone(run.scheduled_at, &tz),
                    "started_at": cron::time_in_zone(Some(run.started_at), &tz),
                    "finished_at": cron::time_in_zone(run.finished_at, &tz),
                    "status": run.status,
                    "output": run.output,
                    "error": run.error,
                })
            })
            .collect();
        return output::json(&Value::Array(items));
    }
    if runs.is_empty() {
        return output::line("no runs yet");
    }
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|run| {
            let tz = zone_of(run);
            let text = run.output.as_deref().or(run.error.as_deref()).unwrap_or("");
            [
                run.job.clone(),
                cron::time_in_zone(run.scheduled_at, &tz).unwrap_or_else(|| "(manual)".into()),
                cron::time_in_zone(Some(run.started_at), &tz).unwrap_or_default(),
                run.finished_at
                    .map(|end| format!("{}s", end - run.started_at))
                    .unwrap_or_else(|| "-".into()),
                run.status.clone(),
                text.lines().next().unwrap_or("").chars().take(80).collect(),
            ]
        })
        .collect();
    let header = ["JOB", "SCHEDULED", "STARTED", "TOOK", "STATUS", "OUTPUT"].map(String::from);
    print_table(&header, &rows)
}

fn list_tools(config: &Config) -> Result<()> {
    let registry = Registry::new(config, Caller::User);
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

fn doctor(config: &Config) -> Result<()> {
    let mut problems = 0;
    let mut report = |ok: bool, text: String| {
        if !ok {
            problems += 1;
        }
        output::line(&if ok {
            format!("ok {text}")
        } else {
            format!("problem: {text}")
        })
    };
    report(
        true,
        format!("config `{}` parses", config.config_path.display()),
    )?;
    for (path, want, what) in [
        (config.data_dir.as_path(), 0o700, "data directory"),
        (config.config_path.as_path(), 0o600, "config file"),
        (config.memory_path.as_path(), 0o600, "memory file"),
        (config.scheduler_db_path.as_path(), 0o600, "job store"),
    ] {
        if let Some(mode) = mode_of(path) {
            let ok = mode & 0o077 == 0;
            let text = if ok {
                format!("{what} `{}` is private ({mode:o})", path.display())
            } else {
                format!(
                    "{what} `{}` has mode {mode:o}; others can read it: run `chmod {want:o} {}`",
                    path.display(),
                    path.display()
                )
            };
            report(ok, text)?;
        }
    }
    match Memory::open(&config.memory_path).keys(now()) {
        Ok(keys) => report(true, format!("memory readable ({} keys)", keys.len()))?,
        Err(error) => report(false, error.to_string())?,
    }
    match Store::open(&config.scheduler_db_path).and_then(|store| store.jobs()) {
        Ok(jobs) => {
            report(true, format!("job store readable ({} jobs)", jobs.len()))?;
            for job in jobs
                .iter()
                .filter(|job| job.enabled && job.next_fire.is_none())
            {
                report(
                    false,
                    format!(
                        "job `{}` is enabled but has no next fire (see `nanopy cron-history {}`)",
                        job.name, job.name
                    ),
                )?;
            }
        }
        Err(error) => report(false, error.to_string())?,
    }
    let zone = system_zone_name();
    match load_zone(&zone) {
        Ok(_) => report(true, format!("system time zone `{zone}`"))?,
        Err(error) => report(false, error.to_string())?,
    }
    match Provider::new(&config.provider).and_then(|provider| provider.probe()) {
        Ok(text) => report(true, text)?,
        Err(error) => report(false, error.to_string())?,
    }
    if problems > 0 {
        Err(Error::Failed(format!("{problems} problem(s) found")))
    } else {
        Ok(())
    }
}

fn mode_of(path: &Path) -> Option<u32> {
    std::fs::metadata(path)
        .ok()
        .map(|meta| meta.permissions().mode() & 0o777)
}

fn now() -> u64 {
    Timestamp::now().as_second().max(0) as u64
}
