//! Several providers (SPEC §9): named providers, aliases, the fallback chain and what falls
//! over, keys from the config, the environment and a command, each sent only to its own
//! server, and config errors that name the line.

use crate::support::{FakeServer, Reply, Workdir, closed_port};
use serde_json::{Value, json};

fn html_500() -> Reply {
    Reply::Raw {
        status: 500,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: b"<html><body><h1>500 Internal Server Error</h1></body></html>".to_vec(),
    }
}

/// The `Authorization` header of every request `server` received.
fn keys_seen(server: &FakeServer) -> Vec<Option<String>> {
    server
        .requests()
        .iter()
        .map(|request| request.header("Authorization").map(str::to_string))
        .collect()
}

fn provider(url: &str, model: &str, key: &str) -> Value {
    json!({"base_url": url, "model": model, "max_retries": 0, "timeout_secs": 5, "api_key": key})
}

#[test]
fn the_chain_passes_over_a_dead_a_busy_and_a_broken_provider_each_with_its_own_key() {
    let busy = FakeServer::start(vec![Reply::error(429, "slow down")]);
    let broken = FakeServer::start(vec![html_500()]);
    let good = FakeServer::start(vec![Reply::text("from the good one")]);
    let wd = Workdir::new("providers-chain");
    let dead = format!("http://127.0.0.1:{}/v1", closed_port());
    let marker = wd.path("cmd-ran");
    let config = json!({
        "provider": provider(&dead, "local-model", "sk-dead-0000"),
        "providers": {
            "busy": {"base_url": busy.base_url(), "model": "busy-model", "max_retries": 0,
                     "api_key_env": "BUSY_KEY"},
            "broken": provider(&broken.base_url(), "broken-model", "sk-broken-2222"),
            "good": {"base_url": good.base_url(), "model": "good-model",
                     "api_key_cmd": format!("touch '{}'; echo sk-good-3333", marker.display())},
        },
        "fallback": ["busy", "broken", "good"],
    });
    wd.config(&config.to_string());
    let out = wd
        .nanopy(&["agent", "--json", "hello"])
        .env("BUSY_KEY", "sk-busy-1111")
        .run()
        .success()
        .never_shows("sk-");
    let warnings: Vec<String> = out
        .stderr()
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .map(str::to_string)
        .collect();
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    assert!(warnings[0].contains("`default` failed") && warnings[0].contains("trying `busy`"));
    assert!(warnings[1].contains("`busy` failed") && warnings[1].contains("HTTP 429"));
    assert!(warnings[2].contains("`broken` failed") && !warnings[2].contains("<html>"));
    let doc = out.json();
    assert_eq!(doc["reply"], "from the good one");
    assert_eq!(doc["provider"], "good");
    assert_eq!(keys_seen(&busy), [Some("Bearer sk-busy-1111".into())]);
    assert_eq!(keys_seen(&broken), [Some("Bearer sk-broken-2222".into())]);
    assert_eq!(keys_seen(&good), [Some("Bearer sk-good-3333".into())]);
    assert_eq!(good.requests()[0].json()["model"], "good-model");
    assert!(marker.exists());
    let log = wd.nanopy(&["log", "--json"]).run().success().json();
    assert_eq!(log[0]["provider"], "good");
}

#[test]
fn when_every_provider_fails_it_exits_4_naming_each() {
    let busy = FakeServer::start(vec![Reply::error(503, "overloaded")]);
    let wd = Workdir::new("providers-all-fail");
    let dead = format!("http://127.0.0.1:{}/v1", closed_port());
    let config = json!({
        "provider": provider(&dead, "m", ""),
        "providers": {"busy": provider(&busy.base_url(), "m", "")},
        "fallback": ["busy"],
    });
    wd.config(&config.to_string());
    wd.nanopy(&["agent", "hello"])
        .run()
        .status(4)
        .stderr_has("error: every provider failed: `default`: ")
        .stderr_has("connection refused")
        .stderr_has("`busy`: provider")
        .stderr_has("HTTP 503");
}

#[test]
fn a_request_the_server_calls_wrong_does_not_fall_over() {
    let first = FakeServer::start(vec![Reply::error(400, "messages must not be empty")]);
    let second = FakeServer::start(vec![Reply::text("never")]);
    let wd = Workdir::new("providers-400");
    let config = json!({
        "provider": provider(&first.base_url(), "m", ""),
        "providers": {"second": provider(&second.base_url(), "m", "")},
        "fallback": ["second"],
    });
    wd.config(&config.to_string());
    wd.nanopy(&["agent", "hello"])
        .run()
        .status(4)
        .stderr_has("HTTP 400");
    assert!(second.requests().is_empty());
}

#[test]
fn a_stream_that_printed_text_is_not_replayed_elsewhere() {
    let cut = Reply::Sse {
        events: vec![
            json!({"choices": [{"index": 0, "delta": {"content": "half an ans"}}]}).to_string(),
        ],
        pause: std::time::Duration::from_millis(1),
    };
    let first = FakeServer::start(vec![cut]);
    let second = FakeServer::start(vec![Reply::stream(&["a second answer"])]);
    let wd = Workdir::new("providers-stream");
    let config = json!({
        "provider": provider(&first.base_url(), "m", ""),
        "providers": {"second": provider(&second.base_url(), "m", "")},
        "fallback": ["second"],
    });
    wd.config(&config.to_string());
    let out = wd.nanopy(&["agent", "--stream", "hello"]).run().status(4);
    assert!(out.stdout().starts_with("half an ans"), "{}", out.stdout());
    assert!(second.requests().is_empty());
}

#[test]
fn provider_and_alias_pick_the_server_model_and_key_and_unknown_names_are_listed() {
    let main = FakeServer::start(vec![Reply::text("main")]);
    let other = FakeServer::start(vec![Reply::text("by name"), Reply::text("by alias")]);
    let wd = Workdir::new("providers-pick");
    let config = json!({
        "provider": provider(&main.base_url(), "main-model", "sk-main"),
        "providers": {"other": provider(&other.base_url(), "other-model", "sk-other")},
        "aliases": {"smart": {"provider": "other", "model": "big-model"}},
    });
    wd.config(&config.to_string());
    wd.nanopy(&["agent", "--provider", "other", "hi"])
        .run()
        .success()
        .stdout_is("by name\n");
    wd.nanopy(&["agent", "--model", "smart", "hi"])
        .run()
        .success()
        .stdout_is("by alias\n");
    let models: Vec<Value> = other
        .requests()
        .iter()
        .map(|r| r.json()["model"].clone())
        .collect();
    assert_eq!(models, [json!("other-model"), json!("big-model")]);
    assert_eq!(
        keys_seen(&other),
        [
            Some("Bearer sk-other".into()),
            Some("Bearer sk-other".into())
        ]
    );
    assert!(main.requests().is_empty());
    wd.nanopy(&["agent", "--provider", "nope", "hi"])
        .run()
        .status(2)
        .stderr_has("unknown provider `nope`; the config has: default, other");
    wd.nanopy(&[
        "cron-add",
        "--name",
        "j",
        "--message",
        "m",
        "--every",
        "1h",
        "--provider",
        "nope",
    ])
    .run()
    .status(2)
    .stderr_has("unknown provider `nope`");
}

#[test]
fn the_environment_key_goes_to_the_default_provider_only() {
    let main = FakeServer::start(vec![Reply::text("one")]);
    let named = FakeServer::start(vec![Reply::text("two")]);
    let wd = Workdir::new("providers-env");
    let config = json!({
        "provider": {"base_url": main.base_url(), "model": "m"},
        "providers": {"named": {"base_url": named.base_url(), "model": "m"}},
    });
    wd.config(&config.to_string());
    wd.nanopy(&["agent", "hi"])
        .env("NANOPY_API_KEY", "sk-env-key")
        .run()
        .success();
    wd.nanopy(&["agent", "--provider", "named", "hi"])
        .env("NANOPY_API_KEY", "sk-env-key")
        .env("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
        .run()
        .success();
    assert_eq!(keys_seen(&main), [Some("Bearer sk-env-key".into())]);
    assert_eq!(keys_seen(&named), [None]);
}

#[test]
fn a_key_command_runs_only_when_needed_and_its_failure_shows_no_output() {
    let main = FakeServer::start(vec![Reply::text("main answered")]);
    let wd = Workdir::new("providers-cmd");
    let marker = wd.path("cmd-ran");
    let config = json!({
        "provider": provider(&main.base_url(), "m", ""),
        "providers": {
            "spare": {"base_url": main.base_url(), "model": "m",
                      "api_key_cmd": format!("touch '{}'; echo sk-spare", marker.display())},
            "broken": {"base_url": main.base_url(), "model": "m",
                       "api_key_cmd": "echo sk-leaked-secret; exit 7"},
        },
        "fallback": ["spare"],
    });
    wd.config(&config.to_string());
    wd.nanopy(&["agent", "hi"]).run().success();
    assert!(
        !marker.exists(),
        "a fallback's key command ran with no need"
    );
    wd.nanopy(&["agent", "--provider", "broken", "hi"])
        .run()
        .status(3)
        .stderr_has("provider `broken`: api_key_cmd failed")
        .never_shows("sk-leaked-secret");
}

#[test]
fn a_redirect_says_where_it_points_and_is_not_followed() {
    let target = FakeServer::start(vec![Reply::text("should not be reached")]);
    let location = format!("{}/chat/completions", target.base_url());
    let redirect = FakeServer::start(vec![Reply::Raw {
        status: 307,
        headers: vec![("Location".into(), location.clone())],
        body: Vec::new(),
    }]);
    let wd = Workdir::new("providers-redirect");
    wd.config(&json!({"provider": provider(&redirect.base_url(), "m", "sk-redirect")}).to_string());
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has(&format!("redirected to `{location}`"))
        .stderr_has("fix `base_url`");
    assert!(target.requests().is_empty(), "the redirect was followed");
}

#[test]
fn config_errors_in_the_provider_graph_name_the_line() {
    let wd = Workdir::new("providers-config-errors");
    let cases = [
        (
            "{\n  \"fallback\": [\"ghost\"]\n}",
            "line 2, column 16",
            "`fallback` names `ghost`",
        ),
        (
            "{\n  \"providers\": {\n    \"x\": {\"model\": \"m\"}\n  }\n}",
            "line 3",
            "provider `x` needs a `base_url`",
        ),
        (
            "{\"aliases\": {\"fast\": {\"provider\": \"nowhere\", \"model\": \"m\"}}}",
            "line 1, column 14",
            "alias `fast` names provider `nowhere`",
        ),
        (
            "{\"default_provider\": \"missing\"}",
            "line 1, column 2",
            "`default_provider` names `missing`",
        ),
    ];
    for (text, place, message) in cases {
        wd.config(text);
        wd.nanopy(&["agent", "hi"])
            .run()
            .status(3)
            .stderr_has(place)
            .stderr_has(message);
    }
}

#[test]
fn jobs_use_their_provider_and_the_history_names_who_answered() {
    let main = FakeServer::start(vec![]);
    let other = FakeServer::start(vec![Reply::text("job answer")]);
    let wd = Workdir::new("providers-job");
    let config = json!({
        "provider": provider(&main.base_url(), "m", ""),
        "providers": {"other": provider(&other.base_url(), "o", "")},
    });
    wd.config(&config.to_string());
    wd.nanopy(&[
        "cron-add",
        "--name",
        "j",
        "--message",
        "m",
        "--every",
        "1h",
        "--provider",
        "other",
    ])
    .run()
    .success();
    let listed = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(listed[0]["provider"], "other");
    wd.nanopy(&["cron-fire", "j"]).run().success();
    assert_eq!(wd.history("j")[0]["provider"], "other");
    assert!(main.requests().is_empty());
}

#[test]
fn config_and_doctor_show_each_provider_with_the_key_redacted_and_its_source() {
    let main = FakeServer::start(vec![]);
    let wd = Workdir::new("providers-show");
    let config = json!({
        "provider": provider(&main.base_url(), "m", "sk-inline-secret"),
        "providers": {
            "fromenv": {"base_url": main.base_url(), "api_key_env": "SOME_KEY"},
            "fromcmd": {"base_url": format!("http://127.0.0.1:{}/v1", closed_port()),
                        "api_key_cmd": "echo sk-cmd-secret"},
        },
    });
    wd.config(&config.to_string());
    let shown = wd
        .nanopy(&["config"])
        .env("SOME_KEY", "sk-env-secret")
        .run()
        .success()
        .never_shows("sk-");
    let text = shown.stdout();
    assert!(text.contains("in the config file, redacted"), "{text}");
    assert!(
        text.contains("from environment variable SOME_KEY, redacted"),
        "{text}"
    );
    assert!(text.contains("from api_key_cmd when called"), "{text}");
    let doctor = wd
        .nanopy(&["doctor"])
        .env("SOME_KEY", "sk-env-secret")
        .run()
        .status(1)
        .never_shows("sk-");
    let out = doctor.stdout();
    assert!(out.contains("ok provider `default`"), "{out}");
    assert!(out.contains("ok provider `fromenv`"), "{out}");
    assert!(out.contains("problem: provider `fromcmd`"), "{out}");
}
