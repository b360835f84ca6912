//! MCP tools (SPEC §10) against the scripted fake server in `tests/mcp/fake_mcp.py`: both
//! eras, stdio and HTTP, the cache that keeps servers from starting, and every fault.

use crate::support::{FakeServer, Reply, Workdir};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn fake_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/fake_mcp.py")
}

/// A fresh workdir and a provider giving `replies`; each test writes its config, whose MCP
/// entries need the workdir's paths.
fn setup(name: &str, replies: Vec<Reply>) -> (Workdir, FakeServer) {
    (Workdir::new(name), FakeServer::start(replies))
}

fn write_config(wd: &Workdir, server: &FakeServer, mcp: Value) {
    wd.config(
        &json!({
            "provider": {"base_url": server.base_url(), "model": "m", "timeout_secs": 10, "max_retries": 0},
            "mcp": mcp,
        })
        .to_string(),
    );
}

/// An `mcp` entry for the stdio fake with these extra arguments, recording into the workdir.
fn stdio_entry(wd: &Workdir, args: &[&str]) -> Value {
    let mut all = vec![
        fake_script().display().to_string(),
        "--record".into(),
        wd.path("record.jsonl").display().to_string(),
        "--started".into(),
        wd.path("started").display().to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    json!({"command": "python3", "args": all})
}

fn starts(wd: &Workdir) -> usize {
    std::fs::read_to_string(wd.path("started"))
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

fn recorded(wd: &Workdir) -> Vec<Value> {
    std::fs::read_to_string(wd.path("record.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn methods(wd: &Workdir) -> Vec<String> {
    recorded(wd)
        .iter()
        .map(|entry| {
            entry["message"]["method"]
                .as_str()
                .unwrap_or("(answer)")
                .to_string()
        })
        .collect()
}

/// The tool names offered in request `n` to the provider.
fn offered(server: &FakeServer, n: usize) -> Vec<String> {
    server.requests()[n].json()["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .map(|t| t["function"]["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The content of the last tool message in request `n`.
fn tool_result(server: &FakeServer, n: usize) -> String {
    let body = server.requests()[n].json();
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_string())
        .expect("a tool message")
}

fn call_then_answer(tool: &str, arguments: &str) -> Vec<Reply> {
    vec![
        Reply::tool_calls(&[("c1", tool, arguments)]),
        Reply::text("done"),
    ]
}

#[test]
fn both_eras_are_spoken_on_stdio_and_the_model_gets_the_tool_text() {
    for (era, expected) in [
        (
            "modern",
            vec!["server/discover", "tools/list", "tools/call"],
        ),
        (
            "legacy",
            vec![
                "server/discover",
                "initialize",
                "notifications/initialized",
                "tools/list",
                "tools/call",
            ],
        ),
        ("dual", vec!["server/discover", "tools/list", "tools/call"]),
    ] {
        let wd = Workdir::new(&format!("mcp-era-{era}"));
        let server = FakeServer::start(call_then_answer("fake__echo", r#"{"text": "hello"}"#));
        let entry = stdio_entry(&wd, &["--era", era]);
        write_config(&wd, &server, json!({ "fake": entry }));
        wd.nanopy(&["agent", "hi"])
            .run()
            .success()
            .stdout_is("done\n");
        assert_eq!(methods(&wd), expected, "{era}");
        assert_eq!(tool_result(&server, 1), "hello", "{era}");
        let call = recorded(&wd).last().unwrap()["message"].clone();
        let meta = &call["params"]["_meta"];
        if era == "legacy" {
            assert!(meta.is_null(), "a legacy call carries no _meta: {call}");
        } else {
            assert_eq!(
                meta["io.modelcontextprotocol/protocolVersion"],
                "2026-07-28"
            );
            assert_eq!(meta["io.modelcontextprotocol/clientInfo"]["name"], "nanopy");
        }
        // The tool is offered with its schema under its server's name.
        let tools = &server.requests()[0].json()["tools"];
        let echo = tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["function"]["name"] == "fake__echo")
            .unwrap();
        assert_eq!(echo["function"]["parameters"]["required"], json!(["text"]));
    }
}

#[test]
fn a_turn_that_calls_no_mcp_tool_starts_no_server_once_the_list_is_cached() {
    let (wd, server) = setup("mcp-cache", vec![Reply::text("a"), Reply::text("b")]);
    let entry = stdio_entry(&wd, &[]);
    write_config(&wd, &server, json!({ "fake": entry }));
    wd.nanopy(&["tools"])
        .run()
        .success()
        .stdout_has("fake__echo — Echoes its text. (MCP server `fake`)")
        .stdout_has("    text (string, required)");
    assert_eq!(starts(&wd), 1);
    let cache = wd.path("mcp-tools.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o600
    );
    wd.nanopy(&["agent", "one"])
        .run()
        .success()
        .stdout_is("a\n");
    wd.nanopy(&["agent", "--no-tools", "two"]).run().success();
    assert_eq!(
        starts(&wd),
        1,
        "a turn with a fresh cache started the server"
    );
    assert!(offered(&server, 0).contains(&"fake__add".to_string()));
    // `tools --refresh` asks the servers again.
    wd.nanopy(&["tools", "--refresh"]).run().success();
    assert_eq!(starts(&wd), 2);
    // A changed entry is a new fingerprint: the next listing starts the server.
    let mut entry = stdio_entry(&wd, &[]);
    entry["env"] = json!({"SOMETHING": "new"});
    write_config(&wd, &server, json!({ "fake": entry }));
    wd.nanopy(&["tools"]).run().success();
    assert_eq!(starts(&wd), 3);
    // An old list is fetched again.
    let mut text: Value = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    text["servers"]["fake"]["fetched_at"] = json!(crate::support::unix_now() - 25 * 3600);
    std::fs::write(&cache, text.to_string()).unwrap();
    wd.nanopy(&["tools"]).run().success();
    assert_eq!(starts(&wd), 4);
    // The cache holds no configuration values.
    assert!(
        !std::fs::read_to_string(&cache)
            .unwrap()
            .contains("SOMETHING")
    );
}

#[test]
fn every_page_of_tools_is_read_and_the_allow_list_and_disabled_apply() {
    let (wd, server) = setup("mcp-pages", vec![]);
    let paged = stdio_entry(&wd, &["--page-size", "2"]);
    let mut allowed = stdio_entry(&wd, &[]);
    allowed["tools"] = json!(["add"]);
    let mut off = stdio_entry(&wd, &[]);
    off["disabled"] = json!(true);
    write_config(
        &wd,
        &server,
        json!({"paged": paged, "only": allowed, "off": off}),
    );
    let out = wd.nanopy(&["tools"]).run().success().stdout();
    for tool in ["echo", "add", "fail", "picture", "ask", "slow"] {
        assert!(
            out.contains(&format!("paged__{tool} ")),
            "{tool} missing: {out}"
        );
    }
    assert!(out.contains("only__add "));
    assert!(!out.contains("only__echo"));
    assert!(!out.contains("off__"));
    assert_eq!(starts(&wd), 2, "a disabled server was started");
}

#[test]
fn results_are_text_with_other_content_described_and_errors_reach_the_caller() {
    let (wd, server) = setup("mcp-results", vec![]);
    let entry = stdio_entry(&wd, &[]);
    write_config(&wd, &server, json!({ "fake": entry }));
    wd.nanopy(&["agent", r#"tool:fake__add {"a": 2, "b": 40}"#])
        .run()
        .success()
        .stdout_is("[tool:fake__add] 42\n");
    wd.nanopy(&["agent", "tool:fake__picture"])
        .run()
        .success()
        .stdout_is("[tool:fake__picture] [image, image/png, about 9 bytes]\n");
    wd.nanopy(&["agent", "tool:fake__fail"])
        .run()
        .status(1)
        .stderr_has("tool `fake__fail` failed: it broke");
    wd.nanopy(&["agent", "tool:fake__nope"])
        .run()
        .status(2)
        .stderr_has("fake__echo");
    assert!(
        server.requests().is_empty(),
        "a tool: call reached the provider"
    );
}

#[test]
fn requests_from_the_server_are_answered_never_ignored() {
    let (wd, server) = setup("mcp-asks", vec![]);
    for era in ["legacy", "modern"] {
        let _ = std::fs::remove_file(wd.path("record.jsonl"));
        let entry = stdio_entry(&wd, &["--era", era, "--fault", "ping-first"]);
        write_config(&wd, &server, json!({ "fake": entry }));
        wd.nanopy(&["agent", r#"tool:fake__echo {"text": "x"}"#])
            .run()
            .success()
            .stdout_is("[tool:fake__echo] x\n");
        let answers: Vec<Value> = recorded(&wd)
            .into_iter()
            .map(|e| e["message"].clone())
            .filter(|m| m.get("method").is_none())
            .collect();
        let ping = answers
            .iter()
            .find(|m| m["id"] == "p-1")
            .expect("ping answered");
        assert_eq!(ping["result"], json!({}));
        let roots = answers
            .iter()
            .find(|m| m["id"] == "r-1")
            .expect("roots/list answered");
        assert_eq!(roots["error"]["code"], -32601);
    }
    // An elicitation: declined through input_required (modern), refused as a request (legacy).
    let entry = stdio_entry(&wd, &["--era", "modern"]);
    write_config(&wd, &server, json!({ "fake": entry }));
    wd.nanopy(&["agent", "tool:fake__ask"])
        .run()
        .success()
        .stdout_is("[tool:fake__ask] user said: decline (state st-1)\n");
    let entry = stdio_entry(&wd, &["--era", "legacy"]);
    write_config(&wd, &server, json!({ "fake": entry }));
    wd.nanopy(&["agent", "tool:fake__ask"])
        .run()
        .success()
        .stdout_has("user said: error:")
        .stdout_has("-32601");
}

/// A turn whose model calls `fake__echo` with a server showing `fault`: the turn answers,
/// with one warning, and the model gets error text.
fn faulty_call(fault: &str, extra: Value, says: &str) {
    let wd = Workdir::new(&format!("mcp-fault-{fault}"));
    let server = FakeServer::start(call_then_answer("fake__echo", r#"{"text": "hi"}"#));
    // List the tools with a healthy server first, so the call itself meets the fault.
    let mut entry = stdio_entry(&wd, &["--fault", fault]);
    for (key, value) in extra.as_object().unwrap() {
        entry[key] = value.clone();
    }
    write_config(&wd, &server, json!({ "fake": entry }));
    let started = Instant::now();
    let out = wd.nanopy(&["agent", "hi"]).run();
    let out = out.success().stdout_is("done\n");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{fault} took too long"
    );
    let warning = out
        .stderr()
        .lines()
        .filter(|l| l.starts_with("warning: MCP server `fake`"))
        .count();
    assert_eq!(warning, 1, "{fault}: {}", out.stderr());
    assert!(out.stderr().contains(says), "{fault}: {}", out.stderr());
    if server.requests().len() == 2 {
        let result = tool_result(&server, 1);
        assert!(result.starts_with("error:"), "{fault}: {result}");
    }
}

#[test]
fn a_server_that_fails_in_a_call_costs_its_tools_not_the_turn() {
    faulty_call(
        "hang-call",
        json!({"tool_timeout_secs": 1}),
        "tool_timeout_secs (1 s)",
    );
    faulty_call("exit-mid-call", json!({}), "the server exited");
    faulty_call("flood", json!({}), "over 4 MiB");
    faulty_call("wrong-id", json!({}), "with id 999999");
}

#[test]
fn a_server_that_fails_at_start_costs_its_tools_not_the_turn() {
    faulty_call("exit-at-start", json!({}), "the server exited");
    faulty_call(
        "hang-start",
        json!({"startup_timeout_secs": 2}),
        "startup_timeout_secs (2 s)",
    );
    faulty_call(
        "not-json",
        json!({}),
        "not JSON-RPC on stdout: `Server listening on stdio`",
    );
    let wd = Workdir::new("mcp-missing");
    let server = FakeServer::start(vec![Reply::text("fine")]);
    write_config(
        &wd,
        &server,
        json!({"gone": {"command": "/nonexistent/mcp-server"}}),
    );
    wd.nanopy(&["agent", "hi"])
        .run()
        .success()
        .stdout_is("fine\n")
        .stderr_has("warning: MCP server `gone`: cannot start `/nonexistent/mcp-server`");
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().chars().next());
            state != Some(Some('Z'))
        })
        .unwrap_or(false)
}

fn wait_for(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn calls(wd: &Workdir) -> usize {
    methods(wd).iter().filter(|m| *m == "tools/call").count()
}

fn pids(wd: &Workdir) -> (u32, u32) {
    let server: u32 = std::fs::read_to_string(wd.path("started"))
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    let grandchild: u32 = std::fs::read_to_string(wd.path("grandchild"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (server, grandchild)
}

#[test]
fn no_server_or_grandchild_outlives_nanopy_also_when_it_is_killed() {
    let wd = Workdir::new("mcp-reap");
    // Each killed turn takes one reply.
    let server = FakeServer::start(vec![
        Reply::tool_calls(&[("c1", "fake__slow", "{}")]),
        Reply::tool_calls(&[("c2", "fake__slow", "{}")]),
    ]);
    let grandchild = wd.path("grandchild").display().to_string();
    let entry = stdio_entry(
        &wd,
        &["--fault", "grandchild", "--grandchild-pid", &grandchild],
    );
    write_config(&wd, &server, json!({ "fake": entry }));
    // A turn that ends normally.
    wd.nanopy(&["agent", r#"tool:fake__echo {"text": "x"}"#])
        .run()
        .success();
    let (first, first_grandchild) = pids(&wd);
    wait_for("the first server to go", || {
        !alive(first) && !alive(first_grandchild)
    });
    // A turn killed by SIGTERM in the middle of a call.
    let mut child = wd.nanopy(&["agent", "hi"]).spawn();
    wait_for("the slow call", || calls(&wd) == 2);
    let (second, second_grandchild) = pids(&wd);
    assert!(alive(second) && alive(second_grandchild));
    unsafe_free_kill(child.id(), "TERM");
    let status = child.wait().unwrap();
    assert!(!status.success());
    wait_for("the killed turn's server to go", || {
        !alive(second) && !alive(second_grandchild)
    });
    // SIGKILL cannot be caught: the parent-death signal ends the server, and closing its
    // stdin lets it go; the grandchild is in its group, so the next turn cannot help; what
    // is checked is the server itself.
    let mut child = wd.nanopy(&["agent", "hi"]).spawn();
    wait_for("the slow call", || calls(&wd) == 3);
    let (third, _) = pids(&wd);
    unsafe_free_kill(child.id(), "KILL");
    child.wait().unwrap();
    wait_for("the SIGKILLed turn's server to go", || !alive(third));
}

/// `kill -SIG pid` without unsafe code in the tests.
fn unsafe_free_kill(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_stale_list_is_refreshed_and_a_list_changed_notice_drops_the_cache() {
    let (wd, server) = setup("mcp-stale", vec![]);
    let entry = stdio_entry(&wd, &["--fault", "stale"]);
    write_config(&wd, &server, json!({ "fake": entry }));
    wd.nanopy(&["tools"]).run().success();
    wd.nanopy(&["agent", r#"tool:fake__echo {"text": "x"}"#])
        .run()
        .status(1)
        .stderr_has("Unknown tool: echo");
    let lists = methods(&wd).iter().filter(|m| *m == "tools/list").count();
    assert_eq!(
        lists, 2,
        "the call that found the list stale did not list again"
    );
    // A change announced during the call: the new list is fetched while the server is up,
    // so the next turn offers it without starting the server.
    let entry = stdio_entry(&wd, &["--fault", "list-changed"]);
    write_config(&wd, &server, json!({ "fake": entry }));
    wd.nanopy(&["tools"]).run().success();
    let before = starts(&wd);
    wd.nanopy(&["agent", r#"tool:fake__echo {"text": "x"}"#])
        .run()
        .success();
    wd.nanopy(&["tools"])
        .run()
        .success()
        .stdout_has("fake__extra");
    assert_eq!(
        starts(&wd),
        before + 1,
        "the changed list was not fetched in the turn"
    );
    // Announced after the answer: fetched at once if it was read in time, otherwise the old
    // list is dropped; either way the next turn never offers the old list.
    let entry = stdio_entry(&wd, &["--fault", "list-changed-late"]);
    write_config(&wd, &server, json!({ "fake": entry }));
    wd.nanopy(&["tools"]).run().success();
    wd.nanopy(&["agent", r#"tool:fake__echo {"text": "x"}"#])
        .run()
        .success();
    let cache = std::fs::read_to_string(wd.path("mcp-tools.json")).unwrap();
    assert!(
        !cache.contains("\"fake\"") || cache.contains("\"extra\""),
        "the old list is still cached: {cache}"
    );
}

#[test]
fn stderr_of_a_server_is_passed_through_marked_with_its_name() {
    let (wd, server) = setup("mcp-stderr", vec![]);
    let entry = stdio_entry(&wd, &[]);
    write_config(&wd, &server, json!({ "notes": entry }));
    wd.nanopy(&["tools"])
        .run()
        .success()
        .stderr_has("[mcp:notes] fake: ready");
}

#[test]
fn doctor_starts_each_server_and_config_redacts_env_and_headers() {
    let (wd, server) = setup("mcp-doctor", vec![]);
    let mut good = stdio_entry(&wd, &["--era", "legacy"]);
    good["env"] = json!({"TOKEN": "s3cret-env"});
    let remote = json!({"url": format!("http://127.0.0.1:{}/mcp", crate::support::closed_port()),
                        "headers": {"Authorization": "Bearer s3cret-header"}});
    write_config(&wd, &server, json!({"good": good, "remote": remote}));
    let out = wd
        .nanopy(&["doctor"])
        .run()
        .never_shows("s3cret")
        .stdout_has("ok MCP server `good` started (legacy 2025-11-25); tools: echo, add")
        .stdout_has("problem: MCP server `remote`: cannot reach");
    assert_eq!(out.code(), Some(1));
    wd.nanopy(&["config"])
        .run()
        .success()
        .never_shows("s3cret")
        .stdout_has("(redacted)");
}

#[test]
fn a_bad_mcp_entry_is_a_config_error_naming_its_line() {
    let (wd, _server) = setup("mcp-bad-config", vec![]);
    wd.config("{\n  \"mcp\": {\n    \"x\": {\"args\": [\"a\"]}\n  }\n}\n");
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(3)
        .stderr_has("line 3")
        .stderr_has("exactly one of `command` (stdio) or `url` (HTTP)");
}

#[test]
fn jobs_get_mcp_tools_unless_they_have_no_tools() {
    let (wd, server) = setup("mcp-jobs", vec![Reply::text("a"), Reply::text("b")]);
    let entry = stdio_entry(&wd, &[]);
    write_config(&wd, &server, json!({ "fake": entry }));
    for (name, flag) in [("with", None), ("without", Some("--no-tools"))] {
        let mut args = vec![
            "cron-add",
            "--name",
            name,
            "--message",
            "go",
            "--cron",
            "0 3 * * *",
            "--tz",
            "UTC",
        ];
        args.extend(flag);
        wd.nanopy(&args).run().success();
        wd.nanopy(&["cron-fire", name]).run().success();
    }
    assert!(offered(&server, 0).contains(&"fake__echo".to_string()));
    assert!(offered(&server, 1).is_empty());
}

/// Starts the HTTP fake with `args`; returns it (killed on drop) and its endpoint.
struct HttpFake {
    child: std::process::Child,
    url: String,
}

impl Drop for HttpFake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_fake(wd: &Workdir, args: &[&str]) -> HttpFake {
    use std::io::BufRead;
    let mut child = std::process::Command::new("python3")
        .arg(fake_script())
        .arg("--http")
        .args(["--record", &wd.path("record.jsonl").display().to_string()])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    HttpFake {
        child,
        url: format!("http://127.0.0.1:{}/mcp", line.trim()),
    }
}

#[test]
fn streamable_http_speaks_both_eras_with_json_or_sse_answers() {
    for (era, sse) in [
        ("modern", false),
        ("modern", true),
        ("legacy", false),
        ("legacy", true),
    ] {
        let wd = Workdir::new(&format!("mcp-http-{era}-{sse}"));
        std::fs::create_dir_all(wd.home()).unwrap();
        let mut args = vec!["--era", era];
        if sse {
            args.push("--sse");
        }
        let fake = http_fake(&wd, &args);
        let server = FakeServer::start(vec![]);
        write_config(
            &wd,
            &server,
            json!({"remote": {"url": fake.url, "headers": {"Authorization": "Bearer tok"}}}),
        );
        wd.nanopy(&["agent", r#"tool:remote__echo {"text": "über"}"#])
            .run()
            .success()
            .stdout_is("[tool:remote__echo] über\n");
        let seen = recorded(&wd);
        assert!(
            seen.iter()
                .all(|e| e["headers"]["authorization"] == "Bearer tok")
        );
        let call = seen
            .iter()
            .find(|e| e["message"]["method"] == "tools/call")
            .expect("a call");
        let headers = &call["headers"];
        if era == "modern" {
            assert_eq!(headers["mcp-protocol-version"], "2026-07-28");
            assert_eq!(headers["mcp-method"], "tools/call");
            assert_eq!(headers["mcp-name"], "echo");
            assert!(
                headers["accept"]
                    .as_str()
                    .unwrap()
                    .contains("text/event-stream")
            );
        } else {
            assert_eq!(headers["mcp-session-id"], "sess-42");
            assert_eq!(headers["mcp-protocol-version"], "2025-11-25");
            // The session is ended when the turn ends.
            assert!(
                seen.iter().any(|e| e["message"]["delete"] == true),
                "{era}: no DELETE"
            );
        }
    }
}
