//! The memory store through the command line: values, TTLs, locking, corrupt files.

use crate::support::Workdir;
use std::os::unix::fs::PermissionsExt;

#[test]
fn values_round_trip_as_json_or_string() {
    let wd = Workdir::new("memory-roundtrip");
    wd.nanopy(&["memory-set", "n", "42"]).run().success();
    wd.nanopy(&["memory-set", "obj", r#"{"a": [1, 2]}"#])
        .run()
        .success();
    wd.nanopy(&["memory-set", "s", "hello world"])
        .run()
        .success();
    wd.nanopy(&["memory-get", "n"])
        .run()
        .success()
        .stdout_is("42\n");
    wd.nanopy(&["memory-get", "obj"])
        .run()
        .success()
        .stdout_is("{\"a\":[1,2]}\n");
    wd.nanopy(&["memory-get", "s"])
        .run()
        .success()
        .stdout_is("hello world\n");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("memory.json")).unwrap()).unwrap();
    assert_eq!(file["n"], 42);
    assert_eq!(file["s"], "hello world");
    assert_eq!(file["obj"]["a"][1], 2);
}

#[test]
fn missing_key_exits_1() {
    Workdir::new("memory-missing")
        .nanopy(&["memory-get", "nope"])
        .run()
        .status(1)
        .stderr_has("no memory key `nope`");
}

#[test]
fn keys_and_delete() {
    let wd = Workdir::new("memory-delete");
    wd.nanopy(&["memory-set", "b", "1"]).run().success();
    wd.nanopy(&["memory-set", "a", "2"]).run().success();
    wd.nanopy(&["memory-keys"])
        .run()
        .success()
        .stdout_is("a\nb\n");
    wd.nanopy(&["memory-delete", "a"]).run().success();
    wd.nanopy(&["memory-keys"]).run().success().stdout_is("b\n");
    wd.nanopy(&["memory-delete", "a"]).run().status(1);
}

#[test]
fn ttl_key_disappears_after_expiry() {
    let wd = Workdir::new("memory-ttl");
    wd.nanopy(&["memory-set", "brief", "x", "--ttl", "1s"])
        .run()
        .success();
    wd.nanopy(&["memory-set", "lasting", "y"]).run().success();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    wd.nanopy(&["memory-get", "brief"]).run().status(1);
    wd.nanopy(&["memory-keys"])
        .run()
        .success()
        .stdout_is("lasting\n");
}

#[test]
fn bad_ttl_exits_2() {
    Workdir::new("memory-bad-ttl")
        .nanopy(&["memory-set", "k", "v", "--ttl", "soon"])
        .run()
        .status(2)
        .stderr_has("invalid duration `soon`");
}

#[test]
fn python_tool_file_loads_and_keeps_its_keys() {
    let wd = Workdir::new("memory-python");
    std::fs::create_dir_all(wd.home()).unwrap();
    std::fs::write(
        wd.path("memory.json"),
        r#"{"rules.last": "reply in Indonesian"}"#,
    )
    .unwrap();
    wd.nanopy(&["memory-get", "rules.last"])
        .run()
        .success()
        .stdout_is("reply in Indonesian\n");
    wd.nanopy(&["rules"])
        .run()
        .success()
        .stdout_is("1. reply in Indonesian\n");
    wd.nanopy(&["memory-set", "k", "v"]).run().success();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("memory.json")).unwrap()).unwrap();
    assert_eq!(file["rules.last"], "reply in Indonesian");
    assert_eq!(file["k"], "v");
}

#[test]
fn corrupt_file_exits_3_and_is_left_untouched() {
    let wd = Workdir::new("memory-corrupt");
    std::fs::create_dir_all(wd.home()).unwrap();
    for corrupt in ["{\"a\": 1,", "[1, 2, 3]"] {
        std::fs::write(wd.path("memory.json"), corrupt).unwrap();
        wd.nanopy(&["memory-set", "k", "v"])
            .run()
            .status(3)
            .stderr_has("left untouched")
            .stderr_has("move it away");
        assert_eq!(
            std::fs::read_to_string(wd.path("memory.json")).unwrap(),
            corrupt
        );
        wd.nanopy(&["memory-get", "a"]).run().status(3);
    }
}

#[test]
fn memory_file_is_private() {
    let wd = Workdir::new("memory-mode");
    wd.nanopy(&["memory-set", "k", "v"]).run().success();
    let mode = std::fs::metadata(wd.path("memory.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn reserved_metadata_key_is_refused() {
    Workdir::new("memory-reserved")
        .nanopy(&["memory-set", "_nanopybot", "x"])
        .run()
        .status(2)
        .stderr_has("reserved");
}

#[test]
fn concurrent_writers_lose_nothing() {
    let wd = Workdir::new("memory-concurrent");
    wd.nanopy(&["memory-keys"]).run().success();
    wd.concurrent_memory_writers(6, 15);
    let keys = wd.nanopy(&["memory-keys"]).run().success().stdout();
    assert_eq!(keys.lines().count(), 6 * 15, "{keys}");
}

/// Issue 26: an empty list says so on stderr, and stdout stays empty for scripts.
#[test]
fn empty_rules_and_keys_say_so_on_stderr_only() {
    let wd = Workdir::new("memory-empty-hints");
    let keys = wd.nanopy(&["memory-keys"]).run().success().stdout_is("");
    assert!(
        keys.stderr().contains("note: the memory is empty"),
        "{}",
        keys.stderr()
    );
    let rules = wd.nanopy(&["rules"]).run().success().stdout_is("");
    assert!(
        rules.stderr().contains("note: no rules learned yet"),
        "{}",
        rules.stderr()
    );
    wd.nanopy(&["memory-set", "k", "v"]).run().success();
    wd.nanopy(&["doctor"])
        .run()
        .stdout_has("memory readable (1 key)");
}
