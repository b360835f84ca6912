//! Security: private files, secrets never shown, tools that cannot be talked into more.

use crate::support::{FakeServer, Reply, Workdir};
use std::os::unix::fs::PermissionsExt;

const SECRET: &str = "sk-live-do-not-print-4242";

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn every_file_nanopy_creates_is_private() {
    let server = FakeServer::start(vec![Reply::text("ok"), Reply::text("job ran")]);
    let wd = Workdir::new("security-modes");
    wd.config_for(&server);
    wd.nanopy(&["agent", "from now on be brief"])
        .run()
        .success();
    wd.nanopy(&["memory-set", "k", "v", "--ttl", "1h"])
        .run()
        .success();
    wd.add_job("j", "0 0 1 1 *");
    wd.nanopy(&["cron-fire", "j"]).run().success();
    let mut daemon = wd.nanopy(&["cron-run"]).spawn();
    std::thread::sleep(std::time::Duration::from_millis(500));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(mode(&wd.home()), 0o700);
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(wd.home()).unwrap() {
        let path = entry.unwrap().path();
        seen.push(path.file_name().unwrap().to_string_lossy().into_owned());
        assert_eq!(mode(&path), 0o600, "{} is not private", path.display());
    }
    for expected in [
        "config.json",
        "memory.json",
        "memory.json.lock",
        "jobs.sqlite",
        "jobs.sqlite.daemon.lock",
    ] {
        assert!(
            seen.iter().any(|name| name == expected),
            "{expected} not created: {seen:?}"
        );
    }
}

#[test]
fn api_key_never_appears_in_output_json_or_errors() {
    let server = FakeServer::start(vec![
        Reply::text("fine"),
        Reply::error(401, &format!("Incorrect API key provided: {SECRET}")),
    ]);
    let wd = Workdir::new("security-key");
    wd.config(&format!(
        r#"{{"provider": {{"base_url": "{}", "api_key": "{SECRET}", "max_retries": 0}}}}"#,
        server.base_url()
    ));
    wd.nanopy(&["agent", "--json", "hi"])
        .run()
        .success()
        .never_shows(SECRET);
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .never_shows(SECRET)
        .stderr_has("[redacted]");
    wd.nanopy(&["config"]).run().success().never_shows(SECRET);
    wd.nanopy(&["doctor"]).run().never_shows(SECRET);
}

#[test]
fn model_cannot_set_a_notify_command_through_cron_add() {
    let server = FakeServer::start(vec![
        Reply::tool_calls(&[(
            "c1",
            "cron_add",
            r#"{"name": "evil", "message": "m", "cron": "0 0 1 1 *", "notify": "touch /tmp/pwned"}"#,
        )]),
        Reply::text("done"),
    ]);
    let wd = Workdir::new("security-notify");
    wd.config_for(&server);
    wd.nanopy(&["agent", "schedule something"]).run().success();
    let db = rusqlite::Connection::open(wd.path("jobs.sqlite")).unwrap();
    let notify: Option<String> = db
        .query_row("SELECT notify FROM jobs WHERE name = 'evil'", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(notify, None);
}

#[test]
fn shell_tool_refuses_injection_attempts_from_the_model() {
    let attempts = [
        r#"{"command": "echo hi; touch INJECTED"}"#,
        r#"{"command": "echo hi && touch INJECTED"}"#,
        r#"{"command": "echo hi $(touch INJECTED)"}"#,
        r#"{"command": "touch INJECTED"}"#,
        r#"{"command": ["echo", "hi"]}"#,
    ];
    let ids: Vec<String> = (0..attempts.len()).map(|n| format!("c{n}")).collect();
    let mut replies: Vec<Reply> = ids
        .iter()
        .zip(attempts)
        .map(|(id, args)| Reply::tool_calls(&[(id.as_str(), "shell", args)]))
        .collect();
    replies.push(Reply::text("gave up"));
    let server = FakeServer::start(replies);
    let wd = Workdir::new("security-shell");
    wd.config(&format!(
        r#"{{"provider": {{"base_url": "{}"}}, "tools": {{"shell": {{"allow": ["echo hi"]}}}}}}"#,
        server.base_url()
    ));
    let json = wd
        .nanopy(&["agent", "--json", "run things"])
        .run()
        .success()
        .json();
    for call in json["tool_calls"].as_array().unwrap() {
        assert!(
            call["result"].as_str().unwrap().starts_with("error:"),
            "{call}"
        );
    }
    assert!(
        !wd.home().join("INJECTED").exists()
            && !wd.home().parent().unwrap().join("INJECTED").exists()
    );
}

#[test]
fn doctor_reports_ok_lines_and_exits_0_when_healthy() {
    let server = FakeServer::start(vec![Reply::Json(200, serde_json::json!({"data": []}))]);
    let wd = Workdir::new("doctor-ok");
    wd.config_for(&server);
    let out = wd.nanopy(&["doctor"]).run().success().stdout();
    assert!(out.lines().all(|line| line.starts_with("ok ")), "{out}");
    assert!(out.contains("reachable"), "{out}");
    assert_eq!(server.requests()[0].path, "/v1/models");
}

#[test]
fn doctor_reports_problems_and_exits_1() {
    let wd = Workdir::new("doctor-problems");
    let port = crate::support::closed_port();
    wd.config(&format!(
        r#"{{"provider": {{"base_url": "http://127.0.0.1:{port}/v1"}}}}"#
    ));
    std::fs::write(wd.path("memory.json"), "[not an object]").unwrap();
    std::fs::set_permissions(
        wd.path("config.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = wd.nanopy(&["doctor"]).run().status(1).stdout();
    assert!(out.contains("problem: config file"), "{out}");
    assert!(out.contains("chmod 600"), "{out}");
    assert!(out.contains("problem: memory file"), "{out}");
    assert!(out.contains("problem: provider"), "{out}");
    assert!(out.contains("ok job store"), "{out}");
}

/// Issue 26, defect 1: a web server that is not a chat API (here one answering 404, and one
/// answering a page) is a problem, named with the URL doctor really requested.
#[test]
fn doctor_calls_a_server_that_is_not_an_openai_api_a_problem() {
    for (reply, says) in [
        (Reply::error(404, "File not found"), "answered HTTP 404"),
        (
            Reply::Raw {
                status: 200,
                headers: vec![("Content-Type".into(), "text/html".into())],
                body: b"<html>directory listing</html>".to_vec(),
            },
            "answered HTTP 200 without a models list",
        ),
    ] {
        let server = FakeServer::start(vec![reply]);
        let wd = Workdir::new("doctor-not-api");
        wd.config_for(&server);
        let url = format!("GET {}/models", server.base_url());
        wd.nanopy(&["doctor"])
            .run()
            .status(1)
            .stdout_has(&format!("problem: provider `default`: {url} {says}"))
            .stdout_has("not an OpenAI-compatible API");
    }
}
