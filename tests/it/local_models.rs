//! Small local models (SPEC §15): reasoning blocks and fields never printed, stored or sent
//! back, also when a block arrives split across stream chunks.

use crate::support::{FakeServer, Reply, with_server};
use serde_json::json;

#[test]
fn a_think_block_and_reasoning_fields_are_never_shown_stored_or_sent_back() {
    let thinking = Reply::Json(
        200,
        json!({"choices": [{"message": {"role": "assistant",
            "content": "<think>secret plan: flatter them</think>\n\nThe disk is fine.",
            "reasoning_content": "hidden chain of thought"}}]}),
    );
    let (wd, server) = with_server("think-block", vec![thinking, Reply::text("ok")]);
    wd.nanopy(&["agent", "--session", "s", "disk?"])
        .run()
        .success()
        .stdout_is("The disk is fine.\n")
        .never_shows("secret plan");
    wd.nanopy(&["log", "--json"])
        .run()
        .success()
        .never_shows("secret plan")
        .never_shows("hidden chain");
    wd.nanopy(&["agent", "--session", "s", "sure?"])
        .run()
        .success();
    let resent = server.requests()[1].body.clone();
    assert!(
        !resent.contains("secret plan") && !resent.contains("hidden chain"),
        "{resent}"
    );
    assert!(resent.contains("The disk is fine."));
}

#[test]
fn a_streamed_think_block_split_across_chunks_is_held_back() {
    let pieces = [
        "<thi",
        "nk>I should not",
        " show this</th",
        "ink>",
        "\n\nHel",
        "lo.",
    ];
    let (wd, _server) = with_server("think-stream", vec![Reply::stream(&pieces)]);
    wd.nanopy(&["agent", "--stream", "hi"])
        .run()
        .success()
        .stdout_is("Hello.\n")
        .never_shows("show this");
}

fn reply_content(text: &str) -> Reply {
    Reply::Json(
        200,
        json!({"choices": [{"message": {"role": "assistant", "content": text}}]}),
    )
}

#[test]
fn a_call_written_as_text_runs_and_goes_back_as_a_real_tool_call() {
    let call = "<tool_call>\n{\"name\": \"memory_set\", \"arguments\": {\"key\": \"car\", \"value\": \"blue\"}}\n</tool_call>";
    let (wd, server) = with_server(
        "text-call",
        vec![reply_content(call), Reply::text("Noted.")],
    );
    wd.nanopy(&["agent", "remember my car is blue"])
        .run()
        .success()
        .stdout_is("Noted.\n")
        .never_shows("tool_call");
    wd.nanopy(&["memory-get", "car"])
        .run()
        .success()
        .stdout_is("blue\n");
    let second = server.requests()[1].json();
    let messages = second["messages"].as_array().unwrap();
    let assistant = &messages[messages.len() - 2];
    assert_eq!(assistant["tool_calls"][0]["function"]["name"], "memory_set");
    assert_eq!(assistant["tool_calls"][0]["id"], "call_text_0");
    assert_eq!(assistant["content"], "");
    assert_eq!(messages.last().unwrap()["role"], "tool");
    assert_eq!(messages.last().unwrap()["tool_call_id"], "call_text_0");
}

#[test]
fn prose_around_a_call_or_an_unknown_tool_stays_text() {
    let prose =
        "I will look it up.\n<tool_call>{\"name\": \"time\", \"arguments\": {}}</tool_call>";
    let unknown = "{\"name\": \"rm_everything\", \"arguments\": {}}";
    let (wd, server) = with_server(
        "text-call-not",
        vec![reply_content(prose), Reply::stream(&[unknown])],
    );
    wd.nanopy(&["agent", "what time?"])
        .run()
        .success()
        .stdout_is(&format!("{prose}\n"));
    wd.nanopy(&["agent", "--stream", "do it"])
        .run()
        .success()
        .stdout_is(&format!("{unknown}\n"));
    assert_eq!(server.requests().len(), 2, "nothing ran, no second round");
}

#[test]
fn a_streamed_call_written_as_text_is_not_printed_and_runs() {
    let pieces = [
        "<tool",
        "_call>\n{\"name\": \"memory_",
        "set\", \"arguments\": {\"key\": \"k\", \"value\": \"v\"}}\n</tool_call>",
    ];
    let (wd, _server) = with_server(
        "text-call-stream",
        vec![Reply::stream(&pieces), Reply::stream(&["Saved."])],
    );
    wd.nanopy(&["agent", "--stream", "save it"])
        .run()
        .success()
        .stdout_is("Saved.\n");
    wd.nanopy(&["memory-get", "k"])
        .run()
        .success()
        .stdout_is("v\n");
}

#[test]
fn schema_asks_for_strict_json_and_prints_one_line() {
    let (wd, server) = with_server(
        "schema-ok",
        vec![
            reply_content("```json\n{\n  \"name\": \"Ann\",\n  \"age\": 30\n}\n```"),
            reply_content("{\"items\": [{\"name\": \"Bo\", \"age\": 4}]}"),
        ],
    );
    wd.nanopy(&[
        "agent",
        "--schema",
        "name, age int: in years",
        "--stream",
        "who?",
    ])
    .run()
    .success()
    .stdout_is("{\"age\":30,\"name\":\"Ann\"}\n");
    let format = server.requests()[0].json()["response_format"].clone();
    assert_eq!(
        format,
        json!({"type": "json_schema", "json_schema": {"name": "answer", "strict": true,
            "schema": {"type": "object", "additionalProperties": false, "required": ["name", "age"],
                "properties": {"name": {"type": "string"},
                    "age": {"type": "integer", "description": "in years"}}}}})
    );
    let turn = wd
        .nanopy(&["agent", "--json", "--schema-multi", "name, age int", "who?"])
        .run()
        .success()
        .json();
    assert_eq!(turn["reply"], json!({"items": [{"name": "Bo", "age": 4}]}));
}

#[test]
fn a_reply_that_does_not_match_gets_one_repair_request_then_fails_with_the_errors() {
    let (wd, server) = with_server(
        "schema-repair",
        vec![
            reply_content("{\"name\": \"Ann\"}"),
            reply_content("{\"name\": \"Ann\", \"age\": 30}"),
            reply_content("I cannot do JSON."),
            reply_content("{\"age\": \"old\"}"),
        ],
    );
    wd.nanopy(&["agent", "--schema", "name, age int", "who?"])
        .run()
        .success()
        .stdout_is("{\"age\":30,\"name\":\"Ann\"}\n");
    let repair = server.requests()[1].json();
    let last = repair["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(
        last["content"]
            .as_str()
            .unwrap()
            .contains("$: `age` is required"),
        "{last}"
    );
    wd.nanopy(&["agent", "--schema", "name, age int", "who?"])
        .run()
        .status(1)
        .stderr_has("does not match the schema")
        .stderr_has("$.age: expected integer, got a string");
    assert_eq!(server.requests().len(), 4);
}

#[test]
fn a_schema_from_a_file_or_inline_json_and_bad_ones_exit_2() {
    let (wd, _server) = with_server("schema-file", vec![reply_content("{\"ok\": true}")]);
    std::fs::create_dir_all(wd.home()).unwrap();
    std::fs::write(
        wd.path("s.json"),
        r#"{"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}"#,
    )
    .unwrap();
    let file = format!("@{}", wd.path("s.json").display());
    wd.nanopy(&["agent", "--schema", &file, "ok?"])
        .run()
        .success()
        .stdout_is("{\"ok\":true}\n");
    for bad in [
        "{\"type\": ",
        "name, age integer",
        "@/nonexistent/schema.json",
    ] {
        wd.nanopy(&["agent", "--schema", bad, "hi"])
            .run()
            .status(2)
            .stderr_has("schema");
    }
    wd.nanopy(&["agent", "--schema", "a", "--schema-multi", "b", "hi"])
        .run()
        .status(2);
}

/// A tiny PNG (1×1), as its bytes.
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

#[test]
fn an_image_file_goes_as_an_image_part_told_by_its_bytes_and_is_not_logged() {
    let (wd, server) = with_server("image-file", vec![Reply::text("A tiny picture.")]);
    std::fs::create_dir_all(wd.home()).unwrap();
    // A `.txt` name on a PNG is still an image.
    let path = wd.path("snapshot.txt");
    std::fs::write(&path, PNG).unwrap();
    let notes = wd.path("notes.jpg");
    std::fs::write(&notes, "a .jpg name on text is still text").unwrap();
    wd.nanopy(&[
        "agent",
        "-f",
        path.to_str().unwrap(),
        "-f",
        notes.to_str().unwrap(),
        "what is it?",
    ])
    .run()
    .success();
    let sent = server.requests()[0].json();
    let content = sent["messages"].as_array().unwrap().last().unwrap()["content"].clone();
    let parts = content
        .as_array()
        .expect("an image makes content a list of parts");
    assert_eq!(parts[0]["type"], "text");
    let text = parts[0]["text"].as_str().unwrap();
    assert!(text.contains("a .jpg name on text is still text") && text.ends_with("what is it?"));
    let url = parts[1]["image_url"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{url}"
    );
    let log = wd.nanopy(&["log", "--json"]).run().success().stdout();
    assert!(!log.contains("iVBORw0KGgo"), "the log keeps no image bytes");
    let db = rusqlite::Connection::open(wd.path("log.sqlite")).unwrap();
    let stored: String = db
        .query_row("SELECT messages FROM turns", [], |row| row.get(0))
        .unwrap();
    assert!(
        stored.contains("[image file ") && stored.contains(&format!("{} bytes", PNG.len())),
        "{stored}"
    );
    assert!(!stored.contains("iVBORw0KGgo"));
}

#[test]
fn an_image_over_the_limit_is_exit_2_saying_by_how_much() {
    let (wd, server) = with_server("image-limit", vec![]);
    wd.config(
        &json!({"provider": {"base_url": server.base_url(), "model": "m"},
                      "limits": {"image_bytes": 10}})
        .to_string(),
    );
    let path = wd.path("big.png");
    std::fs::write(&path, PNG).unwrap();
    wd.nanopy(&["agent", "-f", path.to_str().unwrap(), "hi"])
        .run()
        .status(2)
        .stderr_has(&format!("{} over the limit of 10", PNG.len() - 10));
    assert!(server.requests().is_empty());
}

#[test]
fn an_image_url_is_told_by_its_content_type() {
    let (wd, server) = with_server("image-url", vec![Reply::text("seen")]);
    let camera = FakeServer::start(vec![Reply::Raw {
        status: 200,
        headers: vec![("Content-Type".into(), "image/png".into())],
        body: PNG.to_vec(),
    }]);
    let url = format!("{}/snapshot", camera.base_url());
    wd.nanopy(&["agent", "-f", &url, "what do you see?"])
        .run()
        .success();
    let sent = server.requests()[0].json();
    let content = sent["messages"].as_array().unwrap().last().unwrap()["content"].clone();
    assert!(
        content[1]["image_url"]["url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
}

#[test]
fn a_jobs_files_are_read_at_every_fire() {
    let (wd, server) = with_server("job-files", vec![Reply::text("a cat"), Reply::text("b")]);
    std::fs::create_dir_all(wd.home()).unwrap();
    let snapshot = wd.path("cam.png");
    std::fs::write(&snapshot, PNG).unwrap();
    let snap = snapshot.to_str().unwrap();
    wd.nanopy(&[
        "cron-add",
        "--name",
        "cam",
        "--message",
        "what is on the porch?",
        "--cron",
        "0 7 * * *",
        "--file",
        snap,
    ])
    .run()
    .success();
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["files"], json!([snap]));
    wd.nanopy(&["cron-fire", "cam"]).run().success();
    let sent = server.requests()[0].json();
    let content = sent["messages"].as_array().unwrap().last().unwrap()["content"].clone();
    assert!(
        content[1]["image_url"]["url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    // The file is gone at the next fire: that run fails, naming it.
    std::fs::remove_file(&snapshot).unwrap();
    wd.nanopy(&["cron-fire", "cam"]).run().status(1);
    let runs = wd
        .nanopy(&["cron-history", "cam", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(runs[0]["status"], "failed");
    assert!(
        runs[0]["error"].as_str().unwrap().contains("cam.png"),
        "{}",
        runs[0]
    );
    assert_eq!(
        server.requests().len(),
        1,
        "no request for a run that failed"
    );
    wd.nanopy(&["cron-edit", "cam", "--file", "none"])
        .run()
        .success();
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["files"], json!([]));
}
