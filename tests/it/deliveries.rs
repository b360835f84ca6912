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
