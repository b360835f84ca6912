//! The scheduler commands: `cron-add`, `cron-edit`, `cron-list`, `cron-remove`, `cron-enable`,
//! `cron-disable`, `cron-next`, `cron-run`, `cron-fire`, `cron-history`. Here the scheduler
//! is handed its work: an agent turn for the job's message.

use super::table;
use crate::cli::JobOptions;
use crate::config::Config;
use crate::cron::{self as scheduler, When, describe};
use crate::cron::{Delivery, Job, JobDef, Reporting, Run, RunStatus, Spec, Store, Work};
use crate::error::{Error, Result};
use crate::json_shape;
use crate::output;
use crate::zone::{load_zone, system_zone_name, time_in_zone};
use jiff::Timestamp;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// What a job's fire does: one agent turn for its message, with the job's model and tools,
/// no scheduling tools and no learning (SPEC §3.6); and how its runs are delivered.
fn job_work(config: &Config) -> Arc<dyn Work> {
    Arc::new(super::job_work::JobWork {
        config: config.clone(),
    })
}

/// `cron-add`: checks, stores and prints the job with its first fire.
pub fn add(config: &Config, name: String, options: JobOptions, replace: bool) -> Result<()> {
    let now = Timestamp::now();
    let given = options.clone();
    let tz = options.tz.unwrap_or_else(system_zone_name);
    let when = options
        .when
        .clone()
        .expect("the parser requires a schedule");
    let job = JobDef {
        name,
        message: options.message.unwrap_or_default(),
        spec: when.resolve(&tz, now)?,
        tz,
        grace_secs: options.grace.unwrap_or(scheduler::DEFAULT_GRACE_SECS),
        notify: options.notify.filter(|command| !command.is_empty()),
        model: options.model.filter(|model| !model.is_empty()),
        provider: options.provider.filter(|provider| !provider.is_empty()),
        session: options.session.filter(|session| !session.is_empty()),
        tools: options.tools.unwrap_or(true),
        reporting: Reporting::default(),
        files: Vec::new(),
    };
    let mut job = job;
    apply_reporting(config, &mut job.reporting, &given)?;
    apply_files(&mut job.files, &given)?;
    config.route(job.provider.as_deref(), job.model.as_deref())?;
    let mut store = Store::open(&config.scheduler_db_path)?;
    let saved = scheduler::add(&mut store, job, replace, now)?;
    output::line(&saved.summary("added"))
}

/// `cron-edit NAME`: changes what is given, in one transaction with the new next fire.
pub fn edit(config: &Config, name: &str, options: JobOptions) -> Result<()> {
    let now = Timestamp::now();
    let given = options.clone();
    let mut store = Store::open(&config.scheduler_db_path)?;
    let saved = scheduler::edit(&mut store, name, now, |job| {
        if let Some(tz) = options.tz {
            load_zone(&tz)?;
            job.tz = tz;
        }
        if let Some(when) = &options.when {
            job.spec = when.resolve(&job.tz, now)?;
        } else if let Spec::Cron(expression) = &job.spec {
            // A new zone must still make the expression fire.
            When::Cron(expression.clone()).resolve(&job.tz, now)?;
        }
        if let Some(message) = options.message {
            job.message = message;
        }
        if let Some(grace) = options.grace {
            job.grace_secs = grace;
        }
        if let Some(notify) = options.notify {
            job.notify = (!notify.is_empty()).then_some(notify);
        }
        if let Some(model) = options.model {
            job.model = (!model.is_empty()).then_some(model);
        }
        if let Some(tools) = options.tools {
            job.tools = tools;
        }
        if let Some(session) = options.session {
            job.session = (!session.is_empty()).then_some(session);
        }
        if let Some(provider) = options.provider {
            job.provider = (!provider.is_empty()).then_some(provider);
        }
        apply_reporting(config, &mut job.reporting, &given)?;
        apply_files(&mut job.files, &given)?;
        config.route(job.provider.as_deref(), job.model.as_deref())?;
        Ok(())
    })?;
    output::line(&saved.summary("changed"))
}

/// Applies `--to`, `--notify-on`, `--check` and `--quiet` to a job's reporting: targets must
/// exist (exit 2), `--to none` clears them, `--check none` removes the check.
fn apply_reporting(config: &Config, reporting: &mut Reporting, options: &JobOptions) -> Result<()> {
    if let Some(to) = &options.to {
        reporting.to = if to.len() == 1 && to[0] == "none" {
            Vec::new()
        } else {
            for name in to {
                super::notify::resolve(config, name)?;
            }
            to.clone()
        };
    }
    if let Some(list) = &options.notify_on {
        let statuses = list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                RunStatus::finished_named(name).ok_or_else(|| {
                    Error::Usage(format!(
                        "`--notify-on` takes ok, failed, missed, quiet, skipped or \
                         interrupted, not `{name}`"
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        reporting.notify_on = Some(statuses);
    }
    if let Some(check) = &options.check {
        reporting.check = (check != "none" && !check.trim().is_empty()).then(|| check.clone());
    }
    if let Some(quiet) = options.quiet {
        reporting.quiet = quiet;
    }
    Ok(())
}

/// `--file PATH` (repeatable) replaces the job's files; `--file none` clears them. Paths are
/// kept absolute, so a fire reads the same file whatever its working directory.
fn apply_files(files: &mut Vec<String>, options: &JobOptions) -> Result<()> {
    let Some(given) = &options.files else {
        return Ok(());
    };
    if given.len() == 1 && given[0] == "none" {
        files.clear();
        return Ok(());
    }
    *files = given
        .iter()
        .map(|path| {
            std::path::absolute(path)
                .map(|path| path.display().to_string())
                .map_err(|error| Error::Input(format!("--file `{path}`: {error}")))
        })
        .collect::<Result<_>>()?;
    Ok(())
}

/// `cron-remove NAME`.
pub fn remove(config: &Config, name: &str) -> Result<()> {
    let mut store = Store::open(&config.scheduler_db_path)?;
    if !store.remove(name)? {
        return Err(Error::UnknownJob(name.to_string()));
    }
    output::line(&format!("removed job `{name}`"))
}

/// `cron-enable NAME` and `cron-disable NAME`.
pub fn enable(config: &Config, name: &str, enable: bool) -> Result<()> {
    let mut store = Store::open(&config.scheduler_db_path)?;
    let job = store
        .job(name)?
        .ok_or_else(|| Error::UnknownJob(name.to_string()))?;
    let now = Timestamp::now();
    if !enable {
        store.set_enabled(name, None, now.as_second())?;
        return output::line(&format!("disabled job `{name}`"));
    }
    let Some(next) = job.def.spec.next_after(&job.def.tz, now.as_second())? else {
        return Err(Error::Input(format!(
            "job `{name}` ran its one fire and has no other; give it a new time with \
             `nanopy cron-edit {name} --at TIME` (or `--in`)"
        )));
    };
    store.set_enabled(name, Some(next), now.as_second())?;
    output::line(&format!(
        "enabled job `{name}`, next fire {}",
        time_in_zone(Some(next), &job.def.tz).unwrap_or_default()
    ))
}

/// `cron-list [--json]`.
pub fn list(config: &Config, json: bool) -> Result<()> {
    let store = Store::open(&config.scheduler_db_path)?;
    let jobs = store.jobs()?;
    if let Some(warning) = scheduler::unattended(&store, Timestamp::now().as_second())? {
        crate::notice::warning(&warning);
    }
    if json {
        let items: Vec<Value> = jobs.iter().map(json_shape::job).collect();
        return output::json(&Value::Array(items));
    }
    if jobs.is_empty() {
        return output::line("no jobs (add one with `nanopy cron-add`)");
    }
    let rows: Vec<[String; 7]> = jobs.iter().map(job_row).collect();
    table::print(
        [
            "NAME",
            "SCHEDULE",
            "TZ",
            "ENABLED",
            "NEXT FIRE",
            "LAST STATUS",
            "MODEL/TOOLS",
        ],
        &rows,
    )
}

fn job_row(job: &Job) -> [String; 7] {
    let def = &job.def;
    let model = def.model.as_deref().unwrap_or("(config)");
    [
        def.name.clone(),
        match &def.spec {
            Spec::Cron(expression) => expression.clone(),
            spec => describe(spec, &def.tz),
        },
        def.tz.clone(),
        if job.enabled { "yes" } else { "no" }.to_string(),
        time_in_zone(job.next_fire, &def.tz).unwrap_or_else(|| "-".into()),
        job.last_status
            .map_or_else(|| "-".into(), |status| status.to_string()),
        format!("{model}{}", if def.tools { "" } else { ", no tools" }),
    ]
}

/// `cron-next`: a dry run of a schedule, resolved as `cron-add` would resolve it at `--from`.
pub fn next(when: &When, count: usize, tz: Option<String>, from: Option<String>) -> Result<()> {
    let zone_name = tz.unwrap_or_else(system_zone_name);
    let from = match from {
        Some(text) => parse_instant(&text)?,
        None => Timestamp::now(),
    };
    let spec = when.resolve(&zone_name, from)?;
    let mut at = from.as_second();
    for _ in 0..count {
        let Some(next) = spec.next_after(&zone_name, at)? else {
            break;
        };
        output::line(&time_in_zone(Some(next), &zone_name).unwrap_or_default())?;
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

/// `cron-run [--once]`.
pub fn run(config: &Config, once: bool) -> Result<()> {
    let store = &config.scheduler_db_path;
    if !once {
        return scheduler::run_daemon(store, job_work(config));
    }
    if scheduler::run_once(store, job_work(config))? {
        Ok(())
    } else {
        Err(Error::Failed(
            "at least one job failed (see `nanopy cron-history`)".into(),
        ))
    }
}

/// `serve`: the scheduler, in the foreground. The Telegram bot is not built yet, and a
/// configured one is named as missing rather than silently ignored.
pub fn serve(config: &Config) -> Result<()> {
    if config.telegram.is_some() {
        crate::notice::warning(
            "the Telegram bot is not in this build yet: `serve` runs the scheduler alone",
        );
    }
    scheduler::run_daemon(&config.scheduler_db_path, job_work(config))
}

/// `cron-fire NAME`.
pub fn fire(config: &Config, name: &str) -> Result<()> {
    if scheduler::fire_now(&config.scheduler_db_path, name, job_work(config).as_ref())? {
        Ok(())
    } else {
        Err(Error::Failed(format!("job `{name}` failed")))
    }
}

/// `cron-history [NAME] [--limit N] [--json]`.
pub fn history(config: &Config, name: Option<String>, limit: i64, json: bool) -> Result<()> {
    let store = Store::open(&config.scheduler_db_path)?;
    if let Some(name) = &name
        && store.job(name)?.is_none()
        && store.runs(Some(name), 1)?.is_empty()
    {
        return Err(Error::UnknownJob(name.clone()));
    }
    let zones: HashMap<String, String> = store
        .jobs()?
        .into_iter()
        .map(|job| (job.def.name, job.def.tz))
        .collect();
    let runs = store.runs(name.as_deref(), limit.max(0))?;
    let ids: Vec<i64> = runs.iter().map(|run| run.id).collect();
    let deliveries = store.deliveries_of(&ids)?;
    let of_run =
        |run: &Run| -> Vec<&Delivery> { deliveries.iter().filter(|d| d.run == run.id).collect() };
    let zone_of = |run: &Run| zones.get(&run.job).map_or("UTC", String::as_str);
    if json {
        let items: Vec<Value> = runs
            .iter()
            .map(|run| json_shape::run(run, zone_of(run), &of_run(run)))
            .collect();
        return output::json(&Value::Array(items));
    }
    if runs.is_empty() {
        return output::line("no runs yet");
    }
    let rows: Vec<[String; 6]> = runs.iter().map(|run| run_row(run, zone_of(run))).collect();
    table::print(
        ["JOB", "SCHEDULED", "STARTED", "TOOK", "STATUS", "OUTPUT"],
        &rows,
    )?;
    // Each run's deliveries, one line each, below the table.
    for run in &runs {
        for delivery in of_run(run) {
            output::line(&json_shape::delivery_line(run, delivery, zone_of(run)))?;
        }
    }
    Ok(())
}

fn run_row(run: &Run, tz: &str) -> [String; 6] {
    let text = run.output.as_deref().or(run.error.as_deref()).unwrap_or("");
    [
        run.job.clone(),
        time_in_zone(run.scheduled_at, tz).unwrap_or_else(|| "(manual)".into()),
        time_in_zone(Some(run.started_at), tz).unwrap_or_default(),
        run.finished_at
            .map_or_else(|| "-".into(), |end| format!("{}s", end - run.started_at)),
        run.status.to_string(),
        text.lines().next().unwrap_or("").chars().take(80).collect(),
    ]
}
