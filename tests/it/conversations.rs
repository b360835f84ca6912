//! Conversations and the log (SPEC §8): sessions and `-c` send their history, trimmed to
//! `context_chars` with tool calls kept whole; every turn is logged; `log`, `sessions`,
//! `session-clear`, `usage`; the daily token budget; a log that cannot be used.

use crate::support::{FakeServer, Reply, Workdir, with_server};
use serde_json::{Value, json};
use std::time::Duration;

/// The messages of request `n` as `role:content` strings, the system message left out.
fn conversation(server: &FakeServer, n: usize) -> Vec<String> {
    let request = server.requests()[n].json();
    request["messages"].as_array().unwrap()[1..]
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                m["role"].as_str().unwrap(),
                m["content"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn config_with(wd: &Workdir, server: &FakeServer, extra: &str) {
    wd.config(&format!(
        r#"{{"provider": {{"base_url": "{}", "model": "test-model", "timeout_secs": 10, "max_retries": 0}}{extra}}}"#,
        server.base_url()
    ));
}

#[test]
fn a_session_sends_its_history_and_a_plain_turn_starts_afresh() {
    let (wd, server) = with_server(
        "conv-session",
        vec![
            Reply::text("Paris"),
            Reply::text("About 2.1 million"),
            Reply::text("fresh"),
        ],
    );
    let first = wd
        .nanopy(&["agent", "--json", "--session", "trip", "capital of France?"])
        .run()
        .success()
        .json();
    assert_eq!(first["session"], "trip");
    assert!(first["turn_id"].is_i64(), "{first}");
    assert_eq!(first["provider"], "default");
    let second = wd
        .nanopy(&[
            "agent",
            "--json",
            "--session",
            "trip",
            "how many people live there?",
        ])
        .run()
        .success()
        .json();
    assert!(second["turn_id"].as_i64() > first["turn_id"].as_i64());
    assert_eq!(
        conversation(&server, 1),
        [
            "user:capital of France?",
            "assistant:Paris",
            "user:how many people live there?"
        ]
    );
    let plain = wd.nanopy(&["agent", "--json", "hi"]).run().success().json();
    assert_eq!(plain["session"], Value::Null);
    assert_eq!(conversation(&server, 2), ["user:hi"]);
}

#[test]
fn continue_picks_up_the_latest_conversation_of_the_user() {
    let (wd, server) = with_server(
        "conv-continue",
        ["one", "two", "three", "four", "five"]
            .map(Reply::text)
            .to_vec(),
    );
    wd.nanopy(&["agent", "first"]).run().success();
    wd.nanopy(&["agent", "-c", "second"]).run().success();
    wd.nanopy(&["agent", "--continue", "third"]).run().success();
    assert_eq!(
        conversation(&server, 2),
        [
            "user:first",
            "assistant:one",
            "user:second",
            "assistant:two",
            "user:third"
        ]
    );
    // A named session is a conversation too: -c after it continues it.
    wd.nanopy(&["agent", "--session", "s", "x"]).run().success();
    wd.nanopy(&["agent", "-c", "y"]).run().success();
    assert_eq!(
        conversation(&server, 4),
        ["user:x", "assistant:four", "user:y"]
    );
    wd.nanopy(&["agent", "-c", "--session", "s", "z"])
        .run()
        .status(2)
        .stderr_has("give one");
    assert_eq!(server.requests().len(), 5);
}

#[test]
fn history_is_trimmed_oldest_first_to_context_chars() {
    let server = FakeServer::start(vec![
        Reply::text("aaaaaaaaaa"),
        Reply::text("bbbbbbbbbb"),
        Reply::text("cccccccccc"),
    ]);
    let wd = Workdir::new("conv-trim");
    config_with(&wd, &server, r#", "log": {"context_chars": 45}"#);
    for question in ["question-1", "question-2", "question-3"] {
        wd.nanopy(&["agent", "--session", "t", question])
            .run()
            .success();
    }
    // 40 characters of history exist before the third turn, whose own 10 leave 35: the
    // oldest exchange goes, whole (SPEC §8), and the system message says so.
    assert_eq!(
        conversation(&server, 2),
        ["user:question-2", "assistant:bbbbbbbbbb", "user:question-3"]
    );
    let system = server.requests()[2].json()["messages"][0]["content"].clone();
    assert!(
        system
            .as_str()
            .unwrap()
            .ends_with("were left out to fit the context.")
    );
    let first = server.requests()[1].json()["messages"][0]["content"].clone();
    assert!(
        !first.as_str().unwrap().contains("left out"),
        "nothing was left out yet"
    );
}

/// Issue 26, defect 11: after a huge exchange, the next turn must not begin its history
/// with that exchange's reply alone.
#[test]
fn a_trimmed_history_never_begins_with_an_orphaned_reply() {
    let server = FakeServer::start(vec![Reply::text("short answer"), Reply::text("ok")]);
    let wd = Workdir::new("conv-orphan");
    config_with(&wd, &server, r#", "log": {"context_chars": 200}"#);
    let long = "x".repeat(1000);
    wd.nanopy(&["agent", "--session", "s", &long])
        .run()
        .success();
    wd.nanopy(&["agent", "--session", "s", "and now?"])
        .run()
        .success();
    assert_eq!(conversation(&server, 1), ["user:and now?"]);
}

#[test]
fn a_continued_session_keeps_each_tool_call_with_its_results() {
    let (wd, server) = with_server(
        "conv-tools",
        vec![
            Reply::tool_calls(&[("c1", "time", "{}"), ("c2", "memory_keys", "{}")]),
            Reply::text("It is late."),
            Reply::text("You asked the time."),
        ],
    );
    wd.nanopy(&["agent", "--session", "t", "what time is it?"])
        .run()
        .success();
    wd.nanopy(&["agent", "--session", "t", "what did I ask?"])
        .run()
        .success();
    let messages = server.requests()[2].json()["messages"].clone();
    let roles: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "system",
            "user",
            "assistant",
            "tool",
            "tool",
            "assistant",
            "user"
        ]
    );
    assert_eq!(messages[2]["tool_calls"][0]["id"], "c1");
    assert_eq!(messages[3]["tool_call_id"], "c1");
    assert_eq!(messages[4]["tool_call_id"], "c2");
    assert_eq!(messages[5]["content"], "It is late.");
}

#[test]
fn every_turn_is_logged_and_log_shows_them_newest_first() {
    let (wd, server) = with_server(
        "conv-log",
        vec![Reply::text("pong"), Reply::error(500, "down")],
    );
    wd.nanopy(&["agent", "--session", "s", "ping"])
        .run()
        .success();
    wd.nanopy(&["agent", "tool:time"]).run().success();
    wd.nanopy(&["agent", "will fail"]).run().status(4);
    drop(server);
    let log = wd.nanopy(&["log", "--json"]).run().success().json();
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 3);
    let failed = &log[0];
    assert_eq!(failed["message"], "will fail");
    assert!(
        failed["outcome"].as_str().unwrap().contains("HTTP 500"),
        "{failed}"
    );
    assert_eq!(failed["reply"], Value::Null);
    assert_eq!(log[1]["tool_calls"][0]["name"], "time");
    assert_eq!(log[1]["provider"], Value::Null);
    let ok = &log[2];
    for key in [
        "turn_id",
        "time",
        "session",
        "job",
        "provider",
        "model",
        "message",
        "reply",
        "tool_calls",
        "usage",
        "duration_ms",
        "outcome",
    ] {
        assert!(ok.get(key).is_some(), "log entry lacks {key}: {ok}");
    }
    assert_eq!(
        (
            &ok["session"],
            &ok["reply"],
            &ok["outcome"],
            &ok["provider"]
        ),
        (&json!("s"), &json!("pong"), &json!("ok"), &json!("default"))
    );
    assert_eq!(ok["usage"]["prompt_tokens"], 10);
    let only = wd
        .nanopy(&["log", "--session", "s", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(only.as_array().unwrap().len(), 1);
    wd.nanopy(&["log", "-n", "1"])
        .run()
        .success()
        .stdout_has("> will fail")
        .stdout_has("! provider");
}

#[test]
fn sessions_are_listed_and_cleared() {
    let (wd, _server) = with_server(
        "conv-sessions",
        vec![Reply::text("a"), Reply::text("b"), Reply::text("c")],
    );
    wd.nanopy(&["agent", "--session", "daily", "1"])
        .run()
        .success();
    wd.nanopy(&["agent", "--session", "daily", "2"])
        .run()
        .success();
    wd.nanopy(&["agent", "--session", "other", "3"])
        .run()
        .success();
    let sessions = wd.nanopy(&["sessions", "--json"]).run().success().json();
    assert_eq!(sessions[0]["name"], "other");
    assert_eq!(sessions[1]["name"], "daily");
    assert_eq!(sessions[1]["turns"], 2);
    assert!(sessions[1]["last_used"].as_str().unwrap().contains('T'));
    wd.nanopy(&["sessions"]).run().success().stdout_has("daily");
    wd.nanopy(&["session-clear", "daily"])
        .run()
        .success()
        .stdout_has("2 turns");
    let sessions = wd.nanopy(&["sessions", "--json"]).run().success().json();
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    wd.nanopy(&["session-clear", "daily"])
        .run()
        .status(2)
        .stderr_has("no session named `daily`");
    wd.nanopy(&["agent", "--session", "bad\nname", "x"])
        .run()
        .status(2)
        .stderr_has("session name");
}

#[test]
fn a_log_turned_off_records_nothing_and_refuses_sessions() {
    let server = FakeServer::start(vec![Reply::text("fine")]);
    let wd = Workdir::new("conv-off");
    config_with(&wd, &server, r#", "log": {"enabled": false}"#);
    let turn = wd.nanopy(&["agent", "--json", "hi"]).run().success().json();
    assert_eq!(turn["turn_id"], Value::Null);
    assert!(!wd.path("log.sqlite").exists());
    wd.nanopy(&["agent", "-c", "again"])
        .run()
        .status(2)
        .stderr_has("turns off");
    wd.nanopy(&["log"]).run().status(2);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn an_unusable_log_costs_a_plain_turn_a_warning_and_a_session_turn_its_run() {
    let (wd, server) = with_server("conv-broken", vec![Reply::text("still here")]);
    let log = wd.path("log.sqlite");
    std::fs::write(&log, "this is not a database ".repeat(100)).unwrap();
    let before = std::fs::read(&log).unwrap();
    wd.nanopy(&["agent", "hi"])
        .run()
        .success()
        .stdout_is("still here\n")
        .stderr_has("warning: this turn is not logged");
    wd.nanopy(&["agent", "--session", "s", "hi"])
        .run()
        .status(3)
        .stderr_has("not an SQLite database");
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "a refused log was changed"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn eight_processes_logging_at_once_lose_nothing() {
    let replies = (0..40).map(|n| Reply::text(&format!("r{n}"))).collect();
    let (wd, _server) = with_server("conv-concurrent", replies);
    let children: Vec<_> = (0..8)
        .map(|n| {
            let script = format!(
                "for i in 1 2 3 4 5; do '{}' agent --session s{n} \"m$i\" </dev/null >/dev/null || exit 1; done",
                crate::support::binary().display()
            );
            std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .env("NANOPYBOT_HOME", wd.home())
                .env("TZ", "UTC")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a writer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let log = wd
        .nanopy(&["log", "-n", "100", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(log.as_array().unwrap().len(), 40);
    let sessions = wd.nanopy(&["sessions", "--json"]).run().success().json();
    assert!(sessions.as_array().unwrap().iter().all(|s| s["turns"] == 5));
}

#[test]
fn usage_sums_tokens_and_counts_turns_without_a_figure_apart() {
    let no_usage = Reply::Json(
        200,
        json!({"choices": [{"message": {"role": "assistant", "content": "quiet"}}]}),
    );
    let streamed_usage = Reply::Sse {
        events: vec![
            json!({"choices": [{"index": 0, "delta": {"content": "str"}}]}).to_string(),
            json!({"choices": [{"index": 0, "delta": {"content": "eamed"}, "finish_reason": "stop"}]})
                .to_string(),
            json!({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}).to_string(),
            "[DONE]".into(),
        ],
        pause: Duration::from_millis(1),
    };
    let (wd, server) = with_server(
        "conv-usage",
        vec![Reply::text("counted"), no_usage, streamed_usage],
    );
    wd.nanopy(&["agent", "one"]).run().success();
    wd.nanopy(&["agent", "two"]).run().success();
    wd.nanopy(&["agent", "--stream", "three"])
        .run()
        .success()
        .stdout_is("streamed\n");
    assert_eq!(
        server.requests()[2].json()["stream_options"],
        json!({"include_usage": true})
    );
    let usage = wd.nanopy(&["usage", "--json"]).run().success().json();
    assert_eq!(usage.as_array().unwrap().len(), 1, "{usage}");
    let row = &usage[0];
    assert_eq!(
        (&row["provider"], &row["model"], &row["turns"]),
        (&json!("default"), &json!("test-model"), &json!(3))
    );
    assert_eq!(row["prompt_tokens"], 17);
    assert_eq!(row["completion_tokens"], 5);
    assert_eq!(row["turns_without_usage"], 1);
    assert!(row["day"].as_str().unwrap().len() == 10);
    wd.nanopy(&["usage", "--since", "1h"])
        .run()
        .success()
        .stdout_has("test-model");
    let none = wd
        .nanopy(&["usage", "--since", "2999-01-01", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(none, json!([]));
    wd.nanopy(&["usage", "--since", "soon"]).run().status(2);
}

#[test]
fn the_daily_budget_refuses_a_turn_before_any_request_and_fails_a_job() {
    let server = FakeServer::start(vec![Reply::text("expensive")]);
    let wd = Workdir::new("conv-budget");
    config_with(&wd, &server, r#", "limits": {"daily_tokens": 12}"#);
    wd.nanopy(&["agent", "first"]).run().success();
    wd.nanopy(&["agent", "second"])
        .run()
        .status(1)
        .stderr_has("daily token limit of 12 is reached (12 used today")
        .stderr_has("resets at ");
    wd.add_job("j", "0 0 1 1 *");
    wd.nanopy(&["cron-fire", "j"]).run().status(1);
    let run = &wd.history("j")[0];
    assert_eq!(run["status"], "failed");
    assert!(
        run["error"].as_str().unwrap().contains("daily token limit"),
        "{run}"
    );
    assert_eq!(server.requests().len(), 1, "a refused turn made a request");
    // The budget needs the log: turning the log off with a budget is a config error.
    config_with(
        &wd,
        &server,
        r#", "limits": {"daily_tokens": 12}, "log": {"enabled": false}"#,
    );
    wd.nanopy(&["agent", "x"])
        .run()
        .status(3)
        .stderr_has("daily_tokens");
}

#[test]
fn a_job_with_a_session_knows_what_it_said_before() {
    let (wd, server) = with_server(
        "conv-job",
        vec![
            Reply::text("disk 41%"),
            Reply::text("disk 42%"),
            Reply::text("disk 43%"),
        ],
    );
    wd.nanopy(&[
        "cron-add",
        "--name",
        "disk",
        "--message",
        "report disk use",
        "--cron",
        "0 9 * * *",
        "--tz",
        "UTC",
        "--session",
        "disk-report",
    ])
    .run()
    .success();
    let listed = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(listed[0]["session"], "disk-report");
    for _ in 0..3 {
        wd.nanopy(&["cron-fire", "disk"]).run().success();
    }
    assert_eq!(
        conversation(&server, 2),
        [
            "user:report disk use",
            "assistant:disk 41%",
            "user:report disk use",
            "assistant:disk 42%",
            "user:report disk use"
        ]
    );
    let log = wd
        .nanopy(&["log", "--job", "disk", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(log.as_array().unwrap().len(), 3);
    assert_eq!(log[0]["session"], "disk-report");
    wd.nanopy(&["cron-edit", "disk", "--session", ""])
        .run()
        .success();
    let listed = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(listed[0]["session"], Value::Null);
}
