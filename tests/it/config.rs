//! The data directory, the config file, environment overrides and `nanopy config`.

use crate::support::{FakeServer, Reply, Workdir};
use std::os::unix::fs::PermissionsExt;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn first_run_creates_private_data_dir_and_default_config() {
    let wd = Workdir::new("first-run");
    wd.nanopy(&["memory-keys"]).run().success();
    assert_eq!(mode(&wd.home()), 0o700);
    let config = wd.path("config.json");
    assert_eq!(mode(&config), 0o600);
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(value["provider"]["model"], "gpt-4o-mini");
    assert_eq!(value["provider"]["timeout_secs"], 120);
    assert_eq!(value["memory_path"], "memory.json");
}

#[test]
fn broken_config_exits_3_naming_line_and_column_and_is_kept() {
    let wd = Workdir::new("broken-config");
    let broken = "{\n  \"provider\": {\n    \"model\": \"x\",,\n  }\n}\n";
    wd.config(broken);
    wd.nanopy(&["memory-keys"])
        .run()
        .status(3)
        .stderr_has("config.json` at line 3, column");
    assert_eq!(
        std::fs::read_to_string(wd.path("config.json")).unwrap(),
        broken
    );
}

#[test]
fn wrong_type_in_config_exits_3_naming_the_line() {
    let wd = Workdir::new("config-type");
    wd.config("{\n  \"provider\": {\"max_retries\": \"three\"}\n}");
    wd.nanopy(&["config"])
        .run()
        .status(3)
        .stderr_has("at line 2, column");
}

#[test]
fn unknown_config_key_warns_once_but_works() {
    let wd = Workdir::new("config-unknown");
    wd.config(r#"{"modle": "x", "provider": {"model": "m"}}"#);
    let outcome = wd
        .nanopy(&["memory-keys"])
        .run()
        .success()
        .stderr_has("warning: unknown key in");
    assert_eq!(outcome.stderr().matches("warning:").count(), 1);
    assert!(outcome.stderr().contains("modle"));
}

#[test]
fn config_command_shows_paths_and_redacts_the_key() {
    let wd = Workdir::new("config-show");
    wd.config(r#"{"provider": {"api_key": "sk-file-secret-123"}}"#);
    wd.nanopy(&["config"])
        .env("NANOPY_API_KEY", "sk-env-secret-456")
        .run()
        .success()
        .stdout_has("memory.json")
        .stdout_has("jobs.sqlite")
        .stdout_has("redacted")
        .never_shows("sk-file-secret-123")
        .never_shows("sk-env-secret-456");
}

#[test]
fn environment_beats_config_and_flag_beats_environment() {
    let server = FakeServer::start(vec![Reply::text("one"), Reply::text("two")]);
    let wd = Workdir::new("precedence");
    wd.config(
        r#"{"provider": {"base_url": "http://127.0.0.1:9/v1", "model": "file-model", "api_key": "file-key"}}"#,
    );
    wd.nanopy(&["agent", "hi"])
        .env("NANOPY_BASE_URL", &server.base_url())
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .env("NANOPY_MODEL", "env-model")
        .env("OPENAI_API_KEY", "openai-key")
        .env("NANOPY_API_KEY", "nanopy-key")
        .run()
        .success()
        .stdout_is("one\n");
    wd.nanopy(&["agent", "--model", "flag-model", "hi"])
        .env("OPENAI_BASE_URL", &server.base_url())
        .env("NANOPY_MODEL", "env-model")
        .env("OPENAI_API_KEY", "openai-key")
        .run()
        .success();
    let requests = server.requests();
    assert_eq!(requests[0].json()["model"], "env-model");
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer nanopy-key")
    );
    assert_eq!(requests[1].json()["model"], "flag-model");
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer openai-key")
    );
}

#[test]
fn relative_memory_path_resolves_against_the_data_dir() {
    let wd = Workdir::new("relative-path");
    wd.config(r#"{"memory_path": "sub/mem.json"}"#);
    std::fs::create_dir_all(wd.path("sub")).unwrap();
    wd.nanopy(&["memory-set", "k", "v"]).run().success();
    assert!(wd.path("sub/mem.json").exists());
}

/// Issue 26, defect 3: a config that is a JSON array, or has an array where an object belongs,
/// was taken silently (serde reads a struct from a sequence).
#[test]
fn a_config_that_is_not_an_object_exits_3_and_is_kept() {
    let wd = Workdir::new("config-array");
    for (text, says) in [
        ("[]", "must be a JSON object"),
        (r#"[{"model": "a"}]"#, "not an array"),
        (
            "{\n  \"provider\": [\"key\", \"http://x\"]\n}",
            "`provider` must be a JSON object",
        ),
        (
            "{\n  \"providers\": {\"a\": [1]}\n}",
            "`providers.a` must be a JSON object",
        ),
        ("{\n  \"log\": [true]\n}", "`log` must be a JSON object"),
    ] {
        wd.config(text);
        wd.nanopy(&["config"]).run().status(3).stderr_has(says);
        assert_eq!(
            std::fs::read_to_string(wd.path("config.json")).unwrap(),
            text
        );
    }
}

/// Issue 26, defect 5: values that cannot work are config errors at load, with file, line and
/// column, not failures at the first turn.
#[test]
fn a_zero_timeout_or_limit_is_refused_at_load_with_line_and_column() {
    let wd = Workdir::new("config-ranges");
    for (text, says) in [
        (
            "{\n  \"provider\": {\"timeout_secs\": 0}\n}",
            "at line 2, column 16: `provider.timeout_secs` must be at least 1",
        ),
        (
            "{\"providers\": {\"l\": {\"base_url\": \"http://h/v1\",\n \"timeout_secs\": 0}}}",
            "at line 2, column 2: `providers.l.timeout_secs` must be at least 1",
        ),
        (
            "{\"limits\": {\"input_bytes\": 0}}",
            "`limits.input_bytes` must be at least 1",
        ),
        (
            "{\"tools\": {\"shell\": {\"allow\": [\"uptime\"], \"timeout_secs\": 0}}}",
            "`tools.shell.timeout_secs` must be at least 1",
        ),
    ] {
        wd.config(text);
        wd.nanopy(&["config"])
            .run()
            .status(3)
            .stderr_has("config.json` at line")
            .stderr_has(says);
    }
}

/// Issue 26, defect 4: `config` says where each effective value comes from.
#[test]
fn config_names_the_source_of_each_value() {
    let wd = Workdir::new("config-sources");
    wd.config(r#"{"provider": {"model": "from-file"}, "log": {"keep_days": 7}}"#);
    let shown = wd
        .nanopy(&["config"])
        .env("NANOPY_BASE_URL", "http://127.0.0.1:9/v1")
        .run()
        .success()
        .stdout();
    let json: serde_json::Value = serde_json::from_str(shown.split_once('\n').unwrap().1).unwrap();
    let sources = &json["sources"];
    assert_eq!(
        sources["provider.base_url"],
        "environment variable NANOPY_BASE_URL"
    );
    assert_eq!(sources["provider.model"], "config file");
    assert_eq!(sources["provider.timeout_secs"], "default");
    assert_eq!(sources["log.keep_days"], "config file");
    assert_eq!(sources["provider.api_key"], "default (none)");
    assert_eq!(sources["data_dir"], "environment variable NANOPYBOT_HOME");
}
