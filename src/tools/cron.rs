//! `cron_add`, `cron_list`, `cron_remove`: the model schedules jobs ("remind me every weekday
//! at 7"). Never offered to a turn a scheduled job runs, so a job cannot breed jobs.

use super::{Tool, ToolError, ToolResult, string_arg};
use crate::cron::{self, JobDef, Store, When};
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
        "Schedule an agent job: at each fire the message is sent to the assistant and the \
         reply is logged. Give exactly one schedule: `cron` (recurring at clock times), `at` \
         (once, at a time), `in` (once, after a delay, for \"remind me in 2 hours\") or `every` \
         (at a fixed interval)."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "A short unique job name, like `weekday-reminder`."},
                "message": {"type": "string", "description": "What the assistant is asked at each run."},
                "cron": {"type": "string", "description": "5-field crontab expression (minute hour day-of-month month day-of-week), e.g. `0 7 * * MON-FRI`."},
                "at": {"type": "string", "description": "Once, at this time: RFC 3339, `YYYY-MM-DD HH:MM` or `HH:MM` in the job's zone."},
                "in": {"type": "string", "description": "Once, after this delay, like `2h`, `45m` or `1h30m`."},
                "every": {"type": "string", "description": "At this fixed interval (at least `1m`), like `90m`."},
                "tz": {"type": "string", "description": "IANA time zone, e.g. `Asia/Jakarta`; default the system zone."}
            },
            "required": ["name", "message"]
        })
    }

    fn call(&self, arguments: &Value) -> ToolResult {
        let text = |key: &str| {
            arguments
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let mut schedules: Vec<When> = [
            text("cron").map(When::Cron),
            text("at").map(When::At),
            text("in").map(When::In),
            text("every").map(When::Every),
        ]
        .into_iter()
        .flatten()
        .collect();
        if schedules.len() != 1 {
            return Err(ToolError(
                "give exactly one of `cron`, `at`, `in` or `every`".into(),
            ));
        }
        let when = schedules.remove(0);
        let now = jiff::Timestamp::now();
        let tz = text("tz").unwrap_or_else(crate::zone::system_zone_name);
        let job = JobDef {
            name: string_arg(arguments, "name")?.to_string(),
            message: string_arg(arguments, "message")?.to_string(),
            spec: when.resolve(&tz, now)?,
            tz,
            grace_secs: cron::DEFAULT_GRACE_SECS,
            // The model never sets a command to run: notify stays the user's.
            notify: None,
            model: None,
            provider: None,
            session: None,
            tools: true,
            reporting: Default::default(),
            files: Vec::new(),
        };
        let mut store = Store::open(&self.0)?;
        let saved = cron::add(&mut store, job, false, now)?;
        Ok(saved.summary("added"))
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
        assert!(
            error.0.contains("a job name starts or ends with a space"),
            "{error}"
        );
        assert!(!error.0.contains("--help"), "{error}");
    }

    #[test]
    fn remind_me_in_two_hours_makes_a_one_shot_job() {
        let store = crate::test_support::scratch_dir("tool-cron-in").join("jobs.sqlite");
        let reply = CronAdd(store.clone())
            .call(&json!({"name": "tea", "message": "tea time", "in": "2h", "tz": "UTC"}))
            .unwrap();
        assert!(reply.contains("once at"), "{reply}");
        let job = Store::open(&store).unwrap().job("tea").unwrap().unwrap();
        let in_two_hours = jiff::Timestamp::now().as_second() + 7200;
        assert!(matches!(job.def.spec, crate::cron::Spec::At(at) if (at - in_two_hours).abs() < 5));
        assert_eq!(job.def.notify, None);
        let both = CronAdd(store)
            .call(&json!({"name": "x", "message": "m", "in": "2h", "every": "1h"}))
            .unwrap_err();
        assert!(both.0.contains("exactly one"), "{both}");
    }
}
