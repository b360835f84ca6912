//! The JSON documents scripts rely on (SPEC §2): `agent --json`, `cron-list --json` (and the
//! `cron_list` tool), `cron-history --json`. One place, so each shape is defined once.

use crate::cron::schedule::Spec;
use crate::cron::store::{Job, Run};
use crate::cron::time_in_zone;
use crate::turn::Turn;
use serde_json::{Value, json};

/// `agent --json`.
pub fn turn(turn: &Turn) -> Value {
    let calls: Vec<Value> = turn
        .tool_calls
        .iter()
        .map(|call| json!({"name": call.name, "arguments": call.arguments, "result": call.result}))
        .collect();
    json!({
        "reply": turn.reply,
        "tool_calls": calls,
        "rule_learned": turn.rule_learned,
        "model": turn.model,
        "usage": turn.usage,
    })
}

/// One job of `cron-list --json` and the `cron_list` tool: exactly one of `cron`, `at` and
/// `every` is not null.
pub fn job(job: &Job) -> Value {
    let def = &job.def;
    let (cron, at, every) = match &def.spec {
        Spec::Cron(expression) => (Some(expression.as_str()), None, None),
        Spec::At(at) => (None, time_in_zone(Some(*at), &def.tz), None),
        Spec::Every { text, .. } => (None, None, Some(text.as_str())),
    };
    json!({
        "name": def.name,
        "message": def.message,
        "cron": cron,
        "at": at,
        "every": every,
        "tz": def.tz,
        "enabled": job.enabled,
        "next_fire": time_in_zone(job.next_fire, &def.tz),
        "last_status": job.last_status.map(|status| status.as_str()),
        "model": def.model,
        "provider": def.provider,
        "session": def.session,
        "tools": def.tools,
    })
}

/// One run of `cron-history --json`; times in the job's zone `tz`.
pub fn run(run: &Run, tz: &str) -> Value {
    json!({
        "job": run.job,
        "scheduled_at": time_in_zone(run.scheduled_at, tz),
        "started_at": time_in_zone(Some(run.started_at), tz),
        "finished_at": time_in_zone(run.finished_at, tz),
        "status": run.status.as_str(),
        "output": run.output,
        "error": run.error,
    })
}
