//! Every kind of request nanopy sends validates against the official OpenAI schema
//! (`CreateChatCompletionRequest`, copied from `../shared/openai-chat-schemas.json` into
//! tests/data so the check needs nothing outside the repository).

use crate::support::{FakeServer, Reply, Workdir};
use serde_json::{Value, json};

/// The document turned into JSON Schema: OpenAPI 3.0's `nullable: true` becomes a `null` type.
fn request_validator() -> jsonschema::Validator {
    let text = include_str!("../data/openai-chat-schemas.json");
    let mut document: Value = serde_json::from_str(text).unwrap();
    convert_nullable(&mut document);
    let schema = json!({
        "$ref": "#/components/schemas/CreateChatCompletionRequest",
        "components": document["components"].clone(),
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("the official schema compiles")
}

fn convert_nullable(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                match map.get("type").cloned() {
                    Some(Value::String(kind)) => {
                        map.insert("type".into(), json!([kind, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
            map.values_mut().for_each(convert_nullable);
        }
        Value::Array(items) => items.iter_mut().for_each(convert_nullable),
        _ => {}
    }
}

#[test]
fn every_request_shape_validates_against_the_official_schema() {
    let server = FakeServer::start(vec![
        Reply::text("plain"),
        Reply::tool_calls(&[("c1", "time", "{}"), ("c2", "memory_keys", "{}")]),
        Reply::text("after tools"),
        Reply::text("no tools"),
        Reply::stream(&["streamed"]),
        Reply::text("with rules"),
        Reply::tool_calls(&[("c3", "time", "{}")]),
        Reply::text("in a session"),
        Reply::text("continued, tool calls in the history"),
        Reply::text("{\"name\": \"Ann\", \"age\": 30}"),
    ]);
    let wd = Workdir::new("schema");
    wd.config_for(&server);
    wd.nanopy(&["agent", "hello"]).run().success();
    wd.nanopy(&["agent", "use the tools"]).run().success();
    wd.nanopy(&["agent", "--no-tools", "hello"]).run().success();
    wd.nanopy(&["agent", "--stream", "hello"]).run().success();
    wd.nanopy(&["agent", "rule: answer in English"])
        .run()
        .success();
    wd.nanopy(&["agent", "--session", "s", "time?"])
        .run()
        .success();
    wd.nanopy(&["agent", "--session", "s", "and now?"])
        .run()
        .success();
    // A `--schema` request carries a strict json_schema response format.
    wd.nanopy(&["agent", "--schema", "name, age int", "who?"])
        .run()
        .success();
    let requests = server.requests();
    assert_eq!(requests.len(), 10);
    let continued = requests[8].json();
    assert_eq!(
        continued["messages"].as_array().unwrap().len(),
        6,
        "{continued}"
    );
    let validator = request_validator();
    for request in requests {
        let body = request.json();
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "request does not validate:\n{body:#}\n{errors:#?}"
        );
    }
}

#[test]
fn the_validator_rejects_a_malformed_request() {
    // Guards the guard: a request the schema forbids must fail, or the test above proves nothing.
    let bad = json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]});
    assert!(!request_validator().is_valid(&bad));
    let bad = json!({"model": "m", "messages": [{"role": "assistant", "content": "x",
                      "tool_calls": [{"id": "a", "type": "function", "function": {"name": "t"}}]}]});
    assert!(!request_validator().is_valid(&bad));
}
