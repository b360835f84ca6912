//! `cron_add`, `cron_list`, `cron_remove`: the model schedules jobs ("remind me every weekday
//! at 7"). Never offered to a turn a scheduled job runs, so a job cannot breed jobs.

use super::{Tool, ToolError, ToolResult, string_arg};
use crate::cron::{self, store::NewJob, store::Store};
use crate::json_shape;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Adds a job.
pub struct CronAdd(pub PathBuf);
/// Lists the jobs.
pub struct CronList(pub PathBuf);
/// Removes a job.
pub struct CronRemove(pub PathBuf);

impl Tool for CronAdd {
    fn name(&self) -> &str {
        "cron_add"
    }

    fn description(&self) -> &str {
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

    fn call(&self, arguments: &Value) -> ToolResult {
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
        let mut store = Store::open(&self.0)?;
        let added = cron::add(&mut store, job, false, jiff::Timestamp::now())?;
        Ok(added.summary())
    }
}

impl Tool for CronList {
    fn name(&self) -> &str {
        "cron_list"
    }

    fn description(&self) -> &str {
        "List the scheduled jobs with their expression, zone, next fire and last status."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {}})
    }

    fn call(&self, _arguments: &Value) -> ToolResult {
        let jobs = Store::open(&self.0)?.jobs()?;
        let list: Vec<Value> = jobs.iter().map(json_shape::job).collect();
        Ok(Value::Array(list).to_string())
    }
}

impl Tool for CronRemove {
    fn name(&self) -> &str {
        "cron_remove"
    }

    fn description(&self) -> &str {
        "Remove a scheduled job by name."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"name": {"type": "string", "description": "The job name."}},
            "required": ["name"]
        })
    }

    fn call(&self, arguments: &Value) -> ToolResult {
        let name = string_arg(arguments, "name")?;
        if Store::open(&self.0)?.remove(name)? {
            Ok(format!("removed job `{name}`"))
        } else {
            Err(ToolError(format!("no job named `{name}`")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_reach_the_model_without_a_command_line_hint() {
        let store = crate::test_support::scratch_dir("tool-cron").join("jobs.sqlite");
        let error = CronAdd(store)
            .call(&json!({"name": " ", "message": "m", "cron": "* * * * *"}))
            .unwrap_err();
        assert!(error.0.contains("job name cannot be empty"), "{error}");
        assert!(!error.0.contains("--help"), "{error}");
    }
}
