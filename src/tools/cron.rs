//! `cron_add`, `cron_list`, `cron_remove`: the model schedules jobs ("remind me every weekday
//! at 7"). Never offered to a turn a scheduled job runs, so a job cannot breed jobs.

use super::{Tool, string_arg};
use crate::cron::{self, store::NewJob, store::Store};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Adds a job.
pub struct CronAdd(pub PathBuf);
/// Lists the jobs.
pub struct CronList(pub PathBuf);
/// Removes a job.
pub struct CronRemove(pub PathBuf);

fn open(path: &Path) -> Result<Store, String> {
    Store::open(path).map_err(|error| error.to_string())
}

impl Tool for CronAdd {
    fn name(&self) -> &'static str {
        "cron_add"
    }

    fn description(&self) -> &'static str {
        "Schedule a recurring agent job: at each time matching the cron expression, the \
         message is sent to the assistant and the reply is logged."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "A short unique job name, like `weekday-reminder`."},
                "message": {"type": "string", "description": "What the assistant is asked at each run."},
                "cron": {"type": "string", "description": "5-field crontab expression (minute hour day-of-month month day-of-week), e.g. `0 7 * * MON-FRI`."},
                "tz": {"type": "string", "description": "IANA time zone, e.g. `Asia/Jakarta`; default the system zone."}
            },
            "required": ["name", "message", "cron"]
        })
    }

    fn call(&self, arguments: &Value) -> Result<String, String> {
        let job = NewJob {
            name: string_arg(arguments, "name")?.to_string(),
            message: string_arg(arguments, "message")?.to_string(),
            cron: string_arg(arguments, "cron")?.to_string(),
            tz: arguments
                .get("tz")
                .and_then(Value::as_str)
                .map_or_else(cron::schedule::system_zone_name, str::to_string),
            grace_secs: cron::DEFAULT_GRACE_SECS,
            notify: None,
        };
        let mut store = open(&self.0)?;
        let added = cron::add(&mut store, job, false, jiff::Timestamp::now())
            .map_err(|error| error.to_string())?;
        Ok(added.summary())
    }
}

impl Tool for CronList {
    fn name(&self) -> &'static str {
        "cron_list"
    }

    fn description(&self) -> &'static str {
        "List the scheduled jobs with their expression, zone, next fire and last status."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }

    fn call(&self, _arguments: &Value) -> Result<String, String> {
        let jobs = open(&self.0)?.jobs().map_err(|error| error.to_string())?;
        let list: Vec<Value> = jobs.iter().map(cron::job_json).collect();
        Ok(Value::Array(list).to_string())
    }
}

impl Tool for CronRemove {
    fn name(&self) -> &'static str {
        "cron_remove"
    }

    fn description(&self) -> &'static str {
        "Remove a scheduled job by name."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"name": {"type": "string", "description": "The job name."}},
            "required": ["name"]
        })
    }

    fn call(&self, arguments: &Value) -> Result<String, String> {
        let name = string_arg(arguments, "name")?;
        match open(&self.0)?.remove(name) {
            Ok(true) => Ok(format!("removed job `{name}`")),
            Ok(false) => Err(format!("no job named `{name}`")),
            Err(error) => Err(error.to_string()),
        }
    }
}
