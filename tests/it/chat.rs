//! `nanopy chat` (SPEC §13) in its line mode: stdin not a terminal, one message per line.

use crate::support::{FakeServer, Reply, Workdir};
use serde_json::json;

#[test]
fn chat_reads_a_message_per_line_in_one_session_with_one_agent() {
    let server = FakeServer::start(vec![Reply::stream(&["Hi."]), Reply::stream(&["Again."])]);
    let wd = Workdir::new("chat-lines");
    let keys = wd.home().join("key-runs");
    wd.config(
        &json!({
            "providers": {"p": {"base_url": server.base_url(), "model": "m", "max_retries": 0,
                "api_key_cmd": format!("echo run >> '{}'; echo k", keys.display())}},
            "default_provider": "p",
        })
        .to_string(),
    );
    wd.nanopy(&["chat"])
        .stdin("hello\n\n/rules\nsecond one\n/exit\nnever sent\n")
        .run()
        .success()
        .stdout_is("Hi.\n\nno rules learned yet\nAgain.\n\n");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let second = requests[1].json();
    let contents: Vec<&str> = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        &contents[1..],
        ["hello", "Hi.", "second one"],
        "one session"
    );
    assert_eq!(
        std::fs::read_to_string(&keys).unwrap().lines().count(),
        1,
        "one key command"
    );
    let sessions = wd.nanopy(&["sessions", "--json"]).run().success().json();
    assert!(sessions[0]["name"].as_str().unwrap().starts_with("chat-"));
    assert_eq!(sessions[0]["turns"], 2);
}

#[test]
fn chat_continues_a_named_session_and_needs_the_log() {
    let server = FakeServer::start(vec![Reply::stream(&["ok"])]);
    let wd = Workdir::new("chat-session");
    wd.config_for(&server);
    wd.nanopy(&["chat", "--session", "work"])
        .stdin("hi\n")
        .run()
        .success();
    assert_eq!(
        wd.nanopy(&["sessions", "--json"]).run().success().json()[0]["name"],
        "work"
    );
    wd.config(&format!(
        r#"{{"provider": {{"base_url": "{}"}}, "log": {{"enabled": false}}}}"#,
        server.base_url()
    ));
    wd.nanopy(&["chat"])
        .stdin("hi\n")
        .run()
        .status(2)
        .stderr_has("log");
}
