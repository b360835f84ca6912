//! The JSON documents scripts rely on (SPEC §2): `agent --json`, `cron-list --json` (and the
//! `cron_list` tool), `cron-history --json`, `log`, `sessions` and `usage --json`. One place, so each shape is defined once.

use crate::cron::{Delivery, Job, Run, Spec};
use crate::log::{Entry, Session, Usage};
use crate::turn::{ToolRun, Turn};
use crate::zone::time_in_zone;
use serde_json::{Value, json};

/// `agent --json`.
pub fn turn(turn: &Turn) -> Value {
    json!({
        // With `--schema`, the document itself.
        "reply": turn.document.clone().unwrap_or_else(|| Value::from(turn.reply.as_str())),
        "tool_calls": tool_calls(&turn.tool_calls),
        "rule_learned": turn.rule_learned,
        // The oldest rule the learned one replaced (SPEC §3.2).
        "rule_replaced": turn.rules_replaced.first().map(|rule| rule.text.as_str()),
        "model": turn.model,
        "provider": turn.provider,
        "usage": turn.usage,
        "session": turn.session,
        "turn_id": turn.turn_id,
    })
}

/// A turn's tool calls: `[{name, arguments, result}]`, in `--json` and the log.
pub fn tool_calls(calls: &[ToolRun]) -> Value {
    calls
        .iter()
        .map(|call| json!({"name": call.name, "arguments": call.arguments, "result": call.result}))
        .collect()
}

/// One turn of `log --json`; `time` already formatted.
pub fn log_entry(entry: &Entry, time: &str) -> Value {
    json!({
        "turn_id": entry.id,
        "time": time,
        "session": entry.session,
        "job": entry.job,
        "provider": entry.provider,
        "model": entry.model,
        "message": entry.message,
        "reply": entry.reply,
        "tool_calls": entry.tool_calls,
        "usage": entry.usage,
        "duration_ms": entry.duration_ms,
        "outcome": entry.outcome,
        // Approvals (SPEC §14) are not asked for yet: no turn has any.
        "approvals": [],
    })
}

/// One session of `sessions --json`; `last_used` already formatted.
pub fn session(session: &Session, last_used: &str) -> Value {
    json!({"name": session.name, "turns": session.turns, "last_used": last_used})
}

/// One row of `usage --json`.
pub fn usage(row: &Usage) -> Value {
    json!({
        "day": row.day,
        "provider": row.provider,
        "model": row.model,
        "turns": row.turns,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "turns_without_usage": row.turns_without_usage,
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
        "to": def.reporting.to,
        "notify_on": def.reporting.notify_on_text().split(',').collect::<Vec<_>>(),
        "check": def.reporting.check,
        "quiet": def.reporting.quiet,
        "files": def.files,
    })
}

/// One run of `cron-history --json`, with its deliveries; times in the job's zone `tz`.
pub fn run(run: &Run, tz: &str, deliveries: &[&Delivery]) -> Value {
    json!({
        "deliveries": deliveries.iter().map(|delivery| json!({
            "target": delivery.target,
            "state": delivery_state(delivery),
            "attempts": delivery.attempts,
            "error": delivery.last_error,
        })).collect::<Vec<_>>(),
        "job": run.job,
        "scheduled_at": time_in_zone(run.scheduled_at, tz),
        "started_at": time_in_zone(Some(run.started_at), tz),
        "finished_at": time_in_zone(run.finished_at, tz),
        "status": run.status.as_str(),
        "output": run.output,
        "error": run.error,
        "provider": run.provider,
    })
}

/// A delivery's state as shown: a claim in progress is still `pending`.
fn delivery_state(delivery: &Delivery) -> &str {
    match delivery.state.as_str() {
        "sending" => "pending",
        state => state,
    }
}

/// One line of `cron-history` about a delivery of `run`.
pub fn delivery_line(run: &Run, delivery: &Delivery, tz: &str) -> String {
    let mut line = format!(
        "  delivery of `{}` run {} to `{}`: {}, {} attempt{}",
        run.job,
        time_in_zone(Some(run.started_at), tz).unwrap_or_default(),
        delivery.target,
        delivery_state(delivery),
        delivery.attempts,
        if delivery.attempts == 1 { "" } else { "s" }
    );
    if delivery.state == "pending" || delivery.state == "held" {
        line.push_str(&format!(
            ", next at {}",
            time_in_zone(Some(delivery.next_attempt), tz).unwrap_or_default()
        ));
    }
    if let Some(error) = &delivery.last_error {
        line.push_str(&format!(" (last error: {error})"));
    }
    line
}
