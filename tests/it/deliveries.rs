//! Deliveries (SPEC §12) against fakes on 127.0.0.1 that record every request: `notify`,
//! `agent --to`, each kind of target, and the targets' config errors.

use crate::support::{FakeServer, Reply, Workdir, with_server};
use serde_json::{Value, json};

fn ok() -> Reply {
    Reply::Json(200, json!({"ok": true}))
}

/// A workdir whose config has `targets` (and a provider at `provider`'s URL, when given).
fn with_targets(name: &str, targets: Value, extra: Value) -> Workdir {
    let wd = Workdir::new(name);
    let mut config = json!({"targets": targets});
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    wd.config(&config.to_string());
    wd
}

#[test]
fn notify_posts_to_ntfy_with_title_priority_and_token_from_the_environment() {
    let server = FakeServer::start(vec![ok()]);
    let topic = format!("{}/pi-alerts", server.base_url());
    let wd = with_targets(
        "notify-ntfy",
        json!({"phone": {"ntfy": topic, "token_env": "NTFY_TOKEN", "tags": "warning"}}),
        json!({}),
    );
    wd.nanopy(&["notify", "phone", "disk", "is", "full"])
        .env("NTFY_TOKEN", "tk_secret")
        .run()
        .success();
    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/pi-alerts")
    );
    assert_eq!(request.body, "disk is full");
    assert_eq!(request.header("Title"), Some("nanopy"));
    assert_eq!(request.header("Priority"), Some("default"));
    assert_eq!(request.header("Tags"), Some("warning"));
    assert_eq!(request.header("Authorization"), Some("Bearer tk_secret"));
    // `config` shows where the token comes from, never the token.
    wd.nanopy(&["config"])
        .env("NTFY_TOKEN", "tk_secret")
        .run()
        .success()
        .never_shows("tk_secret")
        .stdout_has("from environment variable NTFY_TOKEN");
}

#[test]
fn notify_reads_stdin_and_sends_to_several_targets_of_several_kinds() {
    let server = FakeServer::start(vec![ok(), ok(), ok()]);
    let wd = with_targets(
        "notify-kinds",
        json!({
            "hook": {"webhook": format!("{}/hook", server.base_url()), "headers": {"X-Token": "x1"}},
            "hc": {"ping": format!("{}/hc/abc/", server.base_url())},
            "log": {"command": format!("cat > {}; echo \"$NANOPY_TARGET:$NANOPY_JOB\" >> {}",
                     wd_file("got"), wd_file("got"))},
        }),
        json!({}),
    );
    wd.nanopy(&["notify", "hook", "hc", "log"])
        .stdin("backup done\n")
        .run()
        .success();
    let requests = server.requests();
    let hook = requests.iter().find(|r| r.path == "/v1/hook").unwrap();
    let body: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(body["text"], "backup done\n");
    assert_eq!(body["job"], Value::Null);
    assert!(body["host"].is_string());
    assert_eq!(hook.header("X-Token"), Some("x1"));
    assert_eq!(hook.header("Content-Type"), Some("application/json"));
    let ping = requests
        .iter()
        .find(|r| r.path.starts_with("/v1/hc"))
        .unwrap();
    assert_eq!(
        (ping.method.as_str(), ping.path.as_str()),
        ("POST", "/v1/hc/abc")
    );
    let got = std::fs::read_to_string(wd.path("got")).unwrap();
    assert_eq!(got, "backup done\nlog:\n");
}

/// A file in the data directory, as the command target's shell names it.
fn wd_file(file: &str) -> String {
    format!("\"$NANOPYBOT_HOME/{file}\"")
}

#[test]
fn notify_to_telegram_splits_long_text_into_ordered_messages() {
    let server = FakeServer::start(vec![ok(), ok(), ok(), ok(), ok(), ok()]);
    let wd = with_targets(
        "notify-telegram",
        json!({"me": {"telegram": 42}}),
        json!({"telegram": {"token": "123:bot-secret", "api_url": format!("http://127.0.0.1:{}", port(&server))}}),
    );
    let line = "y".repeat(99);
    let text = vec![line.as_str(); 100].join("\n");
    wd.nanopy(&["notify", "me", "telegram:77", &text])
        .run()
        .success();
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        6,
        "three pieces to `me`, then three to chat 77"
    );
    let pieces: Vec<Value> = requests.iter().map(|r| r.json()).collect();
    assert!(
        requests
            .iter()
            .all(|r| r.path == "/bot123:bot-secret/sendMessage")
    );
    assert!(pieces[..3].iter().all(|p| p["chat_id"] == 42));
    assert!(pieces[3..].iter().all(|p| p["chat_id"] == 77));
    let joined: Vec<&str> = pieces[..3]
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(joined.join("\n"), text);
    assert!(joined.iter().all(|piece| piece.chars().count() <= 4096));
}

fn port(server: &FakeServer) -> u16 {
    server
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/v1")
        .parse()
        .unwrap()
}

#[test]
fn an_unknown_target_is_exit_2_and_nothing_is_sent() {
    let server = FakeServer::start(vec![ok()]);
    let wd = with_targets(
        "notify-unknown",
        json!({"hook": {"webhook": format!("{}/hook", server.base_url())}}),
        json!({}),
    );
    wd.nanopy(&["notify", "pager", "hello"])
        .run()
        .status(2)
        .stderr_has("unknown target `pager`; the config has: hook");
    assert!(server.requests().is_empty());
}

#[test]
fn a_target_that_refuses_is_exit_1_naming_it_after_trying_the_others() {
    let server = FakeServer::start(vec![Reply::error(400, "bad topic"), ok()]);
    let wd = with_targets(
        "notify-refused",
        json!({
            "bad": {"ntfy": format!("{}/bad", server.base_url())},
            "good": {"webhook": format!("{}/good", server.base_url())},
            "down": {"ping": format!("http://127.0.0.1:{}/x", crate::support::closed_port())},
        }),
        json!({}),
    );
    wd.nanopy(&["notify", "bad", "good", "down", "hello"])
        .run()
        .status(1)
        .stderr_has("`bad`: HTTP 400")
        .stderr_has("`down`: connection refused");
    assert!(server.requests().iter().any(|r| r.path == "/v1/good"));
}

#[test]
fn email_goes_through_sendmail_with_every_header() {
    let wd = Workdir::new("notify-email");
    let script = wd.home().join("fake-sendmail");
    wd.config(
        &json!({"targets": {"ops": {"email": "ops@example.com", "from": "pi@home.lan",
                                     "sendmail": format!("{} -C /dev/null", script.display())}}})
        .to_string(),
    );
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/args\"\ncat > \"$(dirname \"$0\")/mail\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    wd.nanopy(&["notify", "ops", "héllo"]).run().success();
    let args = std::fs::read_to_string(wd.home().join("args")).unwrap();
    assert_eq!(args.trim(), "-C /dev/null -i -t");
    let mail = std::fs::read_to_string(wd.home().join("mail")).unwrap();
    for header in [
        "From: pi@home.lan\r\n",
        "To: ops@example.com\r\n",
        "Subject: [nanopy] message\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
    ] {
        assert!(mail.contains(header), "{header}: {mail}");
    }
    assert!(mail.ends_with("h=C3=A9llo\r\n"), "{mail}");
    // sendmail missing, or exiting 75 (try later): exit 1 naming it.
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'temporary failure' >&2\nexit 75\n",
    )
    .unwrap();
    wd.nanopy(&["notify", "ops", "again"])
        .run()
        .status(1)
        .stderr_has("exited with exit status: 75: temporary failure");
}

#[test]
fn agent_to_delivers_the_reply_after_printing_it() {
    let (wd, provider) = with_server(
        "agent-to",
        vec![Reply::text("All good."), Reply::text("Fine.")],
    );
    let hook = FakeServer::start(vec![ok(), Reply::error(500, "down")]);
    wd.config(
        &json!({
            "provider": {"base_url": provider.base_url(), "model": "m", "max_retries": 0},
            "targets": {"hook": {"webhook": format!("{}/hook", hook.base_url())}},
        })
        .to_string(),
    );
    wd.nanopy(&["agent", "--to", "hook", "status?"])
        .run()
        .success()
        .stdout_is("All good.\n");
    assert_eq!(hook.requests()[0].json()["text"], "All good.");
    wd.nanopy(&["agent", "--to", "hook", "again?"])
        .run()
        .status(1)
        .stdout_is("Fine.\n")
        .stderr_has("warning: not delivered to `hook`: HTTP 500");
    // An unknown target is refused before any request.
    wd.nanopy(&["agent", "--to", "nope", "hi"]).run().status(2);
    assert_eq!(provider.requests().len(), 2);
}

#[test]
fn bad_targets_are_config_errors_naming_the_line() {
    let wd = Workdir::new("targets-bad");
    for (text, says) in [
        ("{\"targets\": {\n \"x\": {\"pager\": \"a\"}}}", "line 2"),
        ("{\"targets\": {\"x\": {}}}", "exactly one kind"),
        (
            "{\"quiet_hours\": \"late\"}",
            "`quiet_hours` must be a window",
        ),
        ("{\"quiet_hours_tz\": \"Mars/Base\"}", "not a time zone"),
        ("{\"telegram\": {\"allow\": [\"me\"]}}", "numeric user ids"),
    ] {
        wd.config(text);
        wd.nanopy(&["config"]).run().status(3).stderr_has(says);
    }
}

// ---- A job's deliveries: the outbox -------------------------------------------------------

/// A workdir with a provider answering `replies` and these `targets` (plus `extra` keys).
fn job_setup(
    name: &str,
    replies: Vec<Reply>,
    targets: Value,
    extra: Value,
) -> (Workdir, FakeServer) {
    let (wd, provider) = with_server(name, replies);
    let mut config = json!({
        "provider": {"base_url": provider.base_url(), "model": "m", "max_retries": 0},
        "targets": targets,
    });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    wd.config(&config.to_string());
    (wd, provider)
}

fn add_job(wd: &Workdir, name: &str, extra: &[&str]) {
    let mut args = vec![
        "cron-add",
        "--name",
        name,
        "--message",
        "report",
        "--cron",
        "0 0 1 1 *",
    ];
    args.extend_from_slice(extra);
    wd.nanopy(&args).run().success();
}

/// A workdir whose provider answers with `replies` and whose target `hook` is a webhook to a
/// fake answering with `hook_replies`: (workdir, provider, hook).
fn with_hook(
    name: &str,
    replies: Vec<Reply>,
    hook_replies: Vec<Reply>,
) -> (Workdir, FakeServer, FakeServer) {
    let hook = FakeServer::start(hook_replies);
    let targets = json!({"hook": {"webhook": format!("{}/hook", hook.base_url())}});
    let (wd, provider) = job_setup(name, replies, targets, json!({}));
    (wd, provider, hook)
}

fn store(wd: &Workdir) -> rusqlite::Connection {
    rusqlite::Connection::open(wd.path("jobs.sqlite")).unwrap()
}

/// Makes every pending delivery due now, as if its wait had passed.
fn make_due(wd: &Workdir) {
    store(wd)
        .execute(
            "UPDATE deliveries SET next_attempt = 0 WHERE state IN ('pending', 'held')",
            [],
        )
        .unwrap();
}

#[test]
fn a_jobs_run_is_delivered_once_and_cron_history_shows_it() {
    let (wd, _provider, hook) = with_hook(
        "job-deliver",
        vec![Reply::text("Disk is at 40%.")],
        vec![ok()],
    );
    add_job(&wd, "disk", &["--to", "hook"]);
    wd.nanopy(&["cron-fire", "disk"]).run().success();
    let sent = hook.requests()[0].json();
    assert_eq!(
        (sent["job"].as_str(), sent["status"].as_str()),
        (Some("disk"), Some("ok"))
    );
    assert_eq!(sent["text"], "Disk is at 40%.");
    assert!(sent["started_at"].is_string());
    let runs = wd.history("disk");
    assert_eq!(
        runs[0]["deliveries"],
        json!([{"target": "hook", "state": "sent", "attempts": 1, "error": null}])
    );
    wd.nanopy(&["cron-history", "disk"])
        .run()
        .success()
        .stdout_has("to `hook`: sent, 1 attempt");
    // Nothing is left to send: a scheduler pass sends nothing again.
    wd.nanopy(&["cron-run", "--once"]).run().success();
    assert_eq!(hook.requests().len(), 1);
}

#[test]
fn notify_on_picks_the_statuses_that_deliver() {
    let (wd, _provider, hook) = with_hook(
        "job-notify-on",
        vec![Reply::text("fine"), Reply::error(401, "bad key")],
        vec![ok()],
    );
    add_job(&wd, "watch", &["--to", "hook", "--notify-on", "failed"]);
    wd.nanopy(&["cron-fire", "watch"]).run().success();
    assert!(hook.requests().is_empty(), "an ok run does not deliver");
    wd.nanopy(&["cron-fire", "watch"]).run().status(1);
    assert_eq!(hook.requests()[0].json()["status"], "failed");
    wd.nanopy(&[
        "cron-add",
        "--name",
        "x",
        "--message",
        "m",
        "--cron",
        "0 0 1 1 *",
        "--notify-on",
        "ok,sometimes",
    ])
    .run()
    .status(2)
    .stderr_has("not `sometimes`");
    wd.nanopy(&[
        "cron-add",
        "--name",
        "x",
        "--message",
        "m",
        "--cron",
        "0 0 1 1 *",
        "--to",
        "pager",
    ])
    .run()
    .status(2)
    .stderr_has("unknown target `pager`");
    wd.nanopy(&["cron-list", "--json"])
        .run()
        .success()
        .stdout_has("\"name\": \"watch\"");
}

#[test]
fn a_check_that_exits_1_makes_a_quiet_run_with_no_request() {
    let (wd, provider, hook) = with_hook("job-check-quiet", vec![], vec![ok()]);
    add_job(
        &wd,
        "disk",
        &[
            "--check",
            "echo 'all fine'; exit 1",
            "--to",
            "hook",
            "--notify-on",
            "quiet",
        ],
    );
    wd.nanopy(&["cron-fire", "disk"]).run().success();
    assert!(provider.requests().is_empty(), "no provider call");
    let runs = wd.history("disk");
    assert_eq!(runs[0]["status"], "quiet");
    assert_eq!(hook.requests()[0].json()["text"], "all fine\n");
    assert_eq!(hook.requests()[0].json()["status"], "quiet");
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["check"], "echo 'all fine'; exit 1");
    assert_eq!(list[0]["notify_on"], json!(["quiet"]));
}

#[test]
fn a_check_that_exits_0_gives_its_output_to_the_turn_and_others_fail_the_run() {
    let (wd, provider) = job_setup(
        "job-check-go",
        vec![Reply::text("Disk is 93% full.")],
        json!({}),
        json!({}),
    );
    add_job(&wd, "disk", &["--check", "echo 'sda1 93%'"]);
    wd.nanopy(&["cron-fire", "disk"]).run().success();
    let sent = provider.requests()[0].json();
    let user = sent["messages"].as_array().unwrap().last().unwrap()["content"].clone();
    assert_eq!(
        user,
        "<input source=\"check\">\nsda1 93%\n</input>\n\nreport"
    );
    wd.nanopy(&[
        "cron-edit",
        "disk",
        "--check",
        "echo 'df: no such disk' >&2; exit 3",
    ])
    .run()
    .success();
    wd.nanopy(&["cron-fire", "disk"]).run().status(1);
    let runs = wd.history("disk");
    assert_eq!(runs[0]["status"], "failed");
    assert!(
        runs[0]["error"]
            .as_str()
            .unwrap()
            .ends_with("df: no such disk"),
        "{}",
        runs[0]
    );
    wd.nanopy(&["cron-edit", "disk", "--check", "none"])
        .run()
        .success();
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["check"], Value::Null);
}

#[test]
fn a_quiet_job_answering_nothing_to_report_is_a_quiet_run() {
    let (wd, provider, hook) = with_hook(
        "job-quiet",
        vec![
            Reply::text("NOTHING_TO_REPORT."),
            Reply::text("Backup failed twice."),
        ],
        vec![ok()],
    );
    add_job(&wd, "backup", &["--quiet", "--to", "hook"]);
    wd.nanopy(&["cron-fire", "backup"]).run().success();
    let system = provider.requests()[0].json()["messages"][0]["content"].clone();
    assert!(
        system
            .as_str()
            .unwrap()
            .contains("answer exactly NOTHING_TO_REPORT")
    );
    assert_eq!(wd.history("backup")[0]["status"], "quiet");
    assert!(
        hook.requests().is_empty(),
        "quiet is not in the default --notify-on"
    );
    let logged = wd.nanopy(&["log", "--json"]).run().success().json();
    assert_eq!(logged[0]["outcome"], "quiet");
    assert_eq!(logged[0]["approvals"], json!([]));
    wd.nanopy(&["cron-fire", "backup"]).run().success();
    assert_eq!(wd.history("backup")[0]["status"], "ok");
    assert_eq!(hook.requests()[0].json()["text"], "Backup failed twice.");
}

#[test]
fn a_target_that_is_down_is_retried_until_it_comes_back() {
    let (wd, _provider, hook) = with_hook(
        "job-retry",
        vec![Reply::text("report")],
        vec![
            Reply::error(503, "restarting"),
            Reply::error(503, "still"),
            ok(),
        ],
    );
    add_job(&wd, "daily", &["--to", "hook"]);
    let before = crate::support::unix_now();
    wd.nanopy(&["cron-fire", "daily"])
        .run()
        .success()
        .stderr_has("delivery to `hook` failed: HTTP 503")
        .stderr_has("restarting");
    let first = &wd.history("daily")[0]["deliveries"][0];
    assert_eq!(
        (first["state"].as_str(), first["attempts"].as_i64()),
        (Some("pending"), Some(1))
    );
    let next: i64 = store(&wd)
        .query_row("SELECT next_attempt FROM deliveries", [], |row| row.get(0))
        .unwrap();
    assert!(
        (before + 55..=before + 70).contains(&next),
        "a minute later: {next} vs {before}"
    );
    // Not due yet: a scheduler pass leaves it.
    wd.nanopy(&["cron-run", "--once"]).run().success();
    assert_eq!(hook.requests().len(), 1);
    make_due(&wd);
    wd.nanopy(&["cron-run", "--once"]).run().success();
    assert_eq!(wd.history("daily")[0]["deliveries"][0]["attempts"], 2);
    make_due(&wd);
    wd.nanopy(&["cron-run", "--once"]).run().success();
    let last = &wd.history("daily")[0]["deliveries"][0];
    assert_eq!(
        (last["state"].as_str(), last["attempts"].as_i64()),
        (Some("sent"), Some(3))
    );
    assert_eq!(hook.requests().len(), 3);
}

#[test]
fn retry_after_is_honoured_and_a_bad_request_fails_at_once() {
    // The hook stays bound so that it keeps answering; its answers are checked in the history.
    let (wd, _provider, _hook) = with_hook(
        "job-retry-after",
        vec![Reply::text("a"), Reply::text("b")],
        vec![
            Reply::Raw {
                status: 429,
                headers: vec![("Retry-After".into(), "600".into())],
                body: b"slow down".to_vec(),
            },
            Reply::error(400, "no such topic"),
        ],
    );
    add_job(&wd, "j", &["--to", "hook"]);
    let before = crate::support::unix_now();
    wd.nanopy(&["cron-fire", "j"]).run().success();
    let next: i64 = store(&wd)
        .query_row("SELECT next_attempt FROM deliveries", [], |row| row.get(0))
        .unwrap();
    assert!(
        next >= before + 600,
        "Retry-After 600 beats the 1-minute wait"
    );
    wd.nanopy(&["cron-fire", "j"]).run().success();
    let failed = &wd.history("j")[0]["deliveries"][0];
    assert_eq!(failed["state"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("HTTP 400"),
        "{failed}"
    );
}

#[test]
fn a_delivery_cut_off_by_a_kill_is_sent_by_the_next_scheduler_exactly_once() {
    let (wd, _provider, hook) = with_hook("job-killed", vec![Reply::text("r")], vec![ok(), ok()]);
    add_job(&wd, "j", &["--to", "hook"]);
    wd.nanopy(&["cron-fire", "j"]).run().success();
    // As if the sender died after the run's commit: the claim is there, its time is up.
    store(&wd)
        .execute(
            "UPDATE deliveries SET state = 'sending', claimed_until = 1",
            [],
        )
        .unwrap();
    // Two schedulers at once: the delivery goes out once.
    let first = wd.nanopy(&["cron-run", "--once"]).spawn();
    let second = wd.nanopy(&["cron-run", "--once"]).spawn();
    for mut child in [first, second] {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(hook.requests().len(), 2, "the first send and one resend");
    assert_eq!(wd.history("j")[0]["deliveries"][0]["state"], "sent");
}

#[test]
fn quiet_hours_hold_deliveries_but_never_pings() {
    let hook = FakeServer::start(vec![ok(), ok(), ok()]);
    // A window around now, in UTC (the tests' zone).
    let minute = crate::support::unix_now() / 60 % 1440;
    let at = |m: i64| {
        format!(
            "{:02}:{:02}",
            m.rem_euclid(1440) / 60,
            m.rem_euclid(1440) % 60
        )
    };
    let window = format!("{}-{}", at(minute - 30), at(minute + 30));
    let (wd, _provider) = job_setup(
        "job-quiet-hours",
        vec![Reply::text("news")],
        json!({
            "hook": {"webhook": format!("{}/hook", hook.base_url())},
            "hc": {"ping": format!("{}/hc", hook.base_url())},
        }),
        json!({"quiet_hours": window, "quiet_hours_tz": "UTC"}),
    );
    add_job(&wd, "j", &["--to", "hook", "--to", "hc"]);
    wd.nanopy(&["cron-fire", "j"]).run().success();
    let paths: Vec<String> = hook.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        ["/v1/hc/start", "/v1/hc"],
        "pings go out; the webhook waits"
    );
    let held = &wd.history("j")[0]["deliveries"];
    assert_eq!(held[0]["state"], "held");
    assert_eq!(held[1]["state"], "sent");
    // The window ends (here: the config drops it): the held delivery goes out.
    wd.config(
        &json!({"targets": {"hook": {"webhook": format!("{}/hook", hook.base_url())},
                            "hc": {"ping": format!("{}/hc", hook.base_url())}}})
        .to_string(),
    );
    make_due(&wd);
    wd.nanopy(&["cron-run", "--once"]).run().success();
    assert_eq!(hook.requests()[2].path, "/v1/hook");
}

#[test]
fn a_failed_run_pings_fail_and_notify_runs_through_the_outbox() {
    let hook = FakeServer::start(vec![ok(), ok()]);
    let (wd, _provider) = job_setup(
        "job-ping-fail",
        vec![Reply::error(401, "bad key")],
        json!({"hc": {"ping": format!("{}/hc", hook.base_url())}}),
        json!({}),
    );
    add_job(
        &wd,
        "j",
        &[
            "--to",
            "hc",
            "--notify",
            "env | grep ^NANOPY_ > \"$NANOPYBOT_HOME/env\"; cat > \"$NANOPYBOT_HOME/text\"",
        ],
    );
    wd.nanopy(&["cron-fire", "j"]).run().status(1);
    let paths: Vec<String> = hook.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v1/hc/start", "/v1/hc/fail"]);
    let env = std::fs::read_to_string(wd.path("env")).unwrap();
    assert!(
        env.contains("NANOPY_JOB=j") && env.contains("NANOPY_STATUS=failed"),
        "{env}"
    );
    assert!(env.contains("NANOPY_TARGET=--notify"), "{env}");
    assert!(
        std::fs::read_to_string(wd.path("text"))
            .unwrap()
            .contains("bad key")
    );
    let deliveries = &wd.history("j")[0]["deliveries"];
    assert_eq!(deliveries.as_array().unwrap().len(), 2);
}

#[test]
fn a_scheduler_nobody_runs_is_reported_by_cron_list_and_doctor() {
    let (wd, _provider) = job_setup("unattended", vec![], json!({}), json!({}));
    add_job(&wd, "daily", &[]);
    // Just added: nothing to say yet.
    let fresh = wd.nanopy(&["cron-list"]).run().success();
    assert!(
        !fresh.stderr().contains("no scheduler"),
        "{}",
        fresh.stderr()
    );
    store(&wd)
        .execute("UPDATE jobs SET created_at = created_at - 3600", [])
        .unwrap();
    wd.nanopy(&["cron-list"])
        .run()
        .success()
        .stderr_has("warning: no scheduler has run in the last 10 minutes (never seen)")
        .stderr_has("cron-run --once");
    wd.nanopy(&["doctor"])
        .run()
        .stdout_has("problem: no scheduler has run in the last 10 minutes");
    wd.nanopy(&["cron-run", "--once"]).run().success();
    let after = wd.nanopy(&["cron-list"]).run().success();
    assert!(
        !after.stderr().contains("no scheduler"),
        "{}",
        after.stderr()
    );
}

#[test]
fn doctor_checks_targets_without_sending_and_names_the_bot() {
    let bot = FakeServer::start(vec![Reply::Json(
        200,
        json!({"ok": true, "result": {"id": 1, "is_bot": true, "username": "pi_helper_bot"}}),
    )]);
    let wd = with_targets(
        "doctor-targets",
        json!({
            "ops": {"email": "ops@example.com", "sendmail": "/nonexistent/sendmail"},
            "me": {"telegram": 42},
            "log": {"command": "logger"},
        }),
        json!({"telegram": {"token": "9:tok", "api_url": format!("http://127.0.0.1:{}", port(&bot))}}),
    );
    wd.nanopy(&["doctor"])
        .run()
        .never_shows("9:tok")
        .stdout_has("ok Telegram bot @pi_helper_bot answers getMe")
        .stdout_has("problem: target `ops` (email): `/nonexistent/sendmail` is not an executable")
        .stdout_has("ok target `me` (telegram): chat 42")
        .stdout_has("ok target `log` (command)");
    assert_eq!(bot.requests()[0].path, "/bot9:tok/getMe");
}

#[test]
fn telegram_retry_after_is_honoured_for_a_jobs_delivery() {
    let bot = FakeServer::start(vec![Reply::Json(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 300",
               "parameters": {"retry_after": 300}}),
    )]);
    let (wd, _provider) = job_setup(
        "job-telegram-429",
        vec![Reply::text("done")],
        json!({}),
        json!({"telegram": {"token": "5:t", "api_url": format!("http://127.0.0.1:{}", port(&bot))}}),
    );
    add_job(&wd, "j", &["--to", "telegram:42"]);
    let before = crate::support::unix_now();
    wd.nanopy(&["cron-fire", "j"])
        .run()
        .success()
        .never_shows("5:t");
    let (state, next): (String, i64) = store(&wd)
        .query_row("SELECT state, next_attempt FROM deliveries", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!(state, "pending");
    assert!(next >= before + 300, "retry_after 300 is honoured");
    let sent = bot.requests()[0].json();
    assert_eq!(sent["chat_id"], 42);
    assert_eq!(sent["text"], "j: ok\ndone");
}

#[test]
fn a_store_written_before_deliveries_migrates_and_its_jobs_deliver() {
    let (wd, provider, hook) = with_hook("job-v1-store", vec![Reply::text("digest")], vec![ok()]);
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jobs-v1.sqlite"),
        wd.path("jobs.sqlite"),
    )
    .unwrap();
    wd.nanopy(&["cron-edit", "daily-digest", "--to", "hook"])
        .run()
        .success();
    wd.nanopy(&["cron-fire", "daily-digest"]).run().success();
    assert_eq!(provider.requests().len(), 1);
    assert_eq!(hook.requests()[0].json()["job"], "daily-digest");
    let runs = wd.history("daily-digest");
    assert_eq!(runs.len(), 2, "the old run is kept");
    assert_eq!(runs[1]["deliveries"], json!([]));
    let version: i64 = store(&wd)
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 4);
}

#[test]
fn a_run_cut_short_by_a_stop_is_delivered_as_interrupted_at_the_next_start() {
    let hook = FakeServer::start(vec![ok(), ok()]);
    let (wd, provider) = job_setup(
        "job-interrupted",
        vec![],
        json!({
            "hook": {"webhook": format!("{}/hook", hook.base_url())},
            "hc": {"ping": format!("{}/hc", hook.base_url())},
        }),
        json!({}),
    );
    add_job(
        &wd,
        "backup",
        &[
            "--to",
            "hook",
            "--to",
            "hc",
            "--notify-on",
            "failed,interrupted",
        ],
    );
    // A run left `running` by a scheduler of an earlier boot: its owner is gone.
    store(&wd)
        .execute(
            "INSERT INTO runs (job, scheduled_at, started_at, status, owner)
             VALUES ('backup', 0, 0, 'running', 'an-earlier-boot 4242 1')",
            [],
        )
        .unwrap();
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stderr_has("interrupted");
    let sent = hook.requests();
    assert_eq!(
        sent.len(),
        2,
        "the interrupted run reaches each target once"
    );
    let paths: Vec<&str> = sent.iter().map(|request| request.path.as_str()).collect();
    let webhook = sent.iter().find(|request| request.path.ends_with("/hook"));
    let webhook = webhook.unwrap_or_else(|| panic!("no webhook call among {paths:?}"));
    let body = webhook.json();
    assert_eq!(
        (body["job"].as_str(), body["status"].as_str()),
        (Some("backup"), Some("interrupted"))
    );
    // A monitor hears of it as a failure.
    assert!(
        sent.iter()
            .any(|request| request.path.ends_with("/hc/fail"))
    );
    assert!(provider.requests().is_empty(), "the job itself is not due");
    let run = &wd.history("backup")[0];
    assert_eq!(run["status"], "interrupted");
    assert_eq!(run["deliveries"][0]["state"], "sent");
    assert_eq!(run["deliveries"][1]["state"], "sent");
    // A second start finds nothing left to mark or send.
    wd.nanopy(&["cron-run", "--once"]).run().success();
    assert_eq!(hook.requests().len(), 2);
}
