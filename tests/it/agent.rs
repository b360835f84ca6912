//! One agent turn end to end: requests sent, replies printed, rules learned, tools called.

use crate::support::{Reply, Workdir, with_server};
use serde_json::Value;

#[test]
fn plain_turn_prints_the_reply_and_sends_system_then_user() {
    let (wd, server) = with_server("agent-plain", vec![Reply::text("Hello there")]);
    wd.nanopy(&["agent", "say", "hello"])
        .run()
        .success()
        .stdout_is("Hello there\n");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert!(request.header("user-agent").unwrap().starts_with("nanopy/"));
    assert_eq!(
        request.header("authorization"),
        None,
        "empty key must send no header"
    );
    let body = request.json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["messages"][0]["role"], "system");
    assert!(
        body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("You are nanopybot")
    );
    assert_eq!(body["messages"][1]["role"], "user");
    assert_eq!(body["messages"][1]["content"], "say hello");
    assert!(
        body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["function"]["name"] == "time")
    );
}

#[test]
fn message_comes_from_stdin_without_arguments_or_with_dash() {
    let (wd, server) = with_server("agent-stdin", vec![Reply::text("a"), Reply::text("b")]);
    wd.nanopy(&["agent"])
        .stdin("from stdin\n")
        .run()
        .success()
        .stdout_is("a\n");
    wd.nanopy(&["agent", "-"])
        .stdin("dash stdin")
        .run()
        .success()
        .stdout_is("b\n");
    let requests = server.requests();
    assert_eq!(requests[0].json()["messages"][1]["content"], "from stdin\n");
    assert_eq!(requests[1].json()["messages"][1]["content"], "dash stdin");
}

#[test]
fn empty_message_is_a_usage_error() {
    let (wd, server) = with_server("agent-empty", vec![]);
    wd.nanopy(&["agent"]).stdin("  \n").run().status(2);
    assert!(server.requests().is_empty());
}

#[test]
fn model_flag_overrides_config() {
    let (wd, server) = with_server("agent-model", vec![Reply::text("ok")]);
    wd.nanopy(&["agent", "--model", "other", "hi"])
        .run()
        .success();
    assert_eq!(server.requests()[0].json()["model"], "other");
}

#[test]
fn feedback_is_learned_and_injected_into_later_requests() {
    let (wd, server) = with_server(
        "agent-feedback",
        vec![Reply::text("Understood."), Reply::text("Paris.")],
    );
    wd.nanopy(&["agent", "from now on answer in English"])
        .run()
        .success();
    wd.nanopy(&["agent", "what is the capital of France?"])
        .run()
        .success();
    wd.nanopy(&["rules"])
        .run()
        .success()
        .stdout_is("1. from now on answer in English\n");
    wd.nanopy(&["memory-get", "rules.last"])
        .run()
        .success()
        .stdout_is("from now on answer in English\n");
    let requests = server.requests();
    for request in &requests {
        let system = request.json()["messages"][0]["content"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(system.contains("from now on answer in English"), "{system}");
    }
}

#[test]
fn questions_are_not_learned_as_rules() {
    let (wd, _server) = with_server("agent-question", vec![Reply::text("Because.")]);
    wd.nanopy(&["agent", "why do I always forget my keys?"])
        .run()
        .success();
    wd.nanopy(&["rules"]).run().success().stdout_is("");
}

#[test]
fn newer_rules_come_last_in_the_system_message() {
    let (wd, server) = with_server(
        "agent-rule-order",
        vec![Reply::text("ok"), Reply::text("ok"), Reply::text("ok")],
    );
    wd.nanopy(&["agent", "rule: answer in English"])
        .run()
        .success();
    // A rule on another subject (two on the same one would replace, SPEC §3.2).
    wd.nanopy(&["agent", "aturan: selalu beri judul di setiap jawaban"])
        .run()
        .success();
    wd.nanopy(&["agent", "halo"]).run().success();
    let system = server.requests()[2].json()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let english = system.find("answer in English").unwrap();
    let indonesian = system.find("selalu beri judul di setiap jawaban").unwrap();
    assert!(english < indonesian, "{system}");
    wd.nanopy(&["rules-clear"])
        .run()
        .success()
        .stdout_has("forgot 2");
    wd.nanopy(&["rules"]).run().success().stdout_is("");
}

#[test]
fn local_tool_call_runs_without_the_provider() {
    let (wd, server) = with_server("agent-local-tool", vec![]);
    let out = wd.nanopy(&["agent", "tool:time"]).run().success().stdout();
    let stamp: i64 = out
        .trim()
        .strip_prefix("[tool:time] ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(stamp > 1_700_000_000);
    wd.nanopy(&["agent", r#"tool:memory_set {"key": "k", "value": 5}"#])
        .run()
        .success();
    wd.nanopy(&["agent", r#"tool:memory_get {"key": "k"}"#])
        .run()
        .success()
        .stdout_is("[tool:memory_get] 5\n");
    assert!(server.requests().is_empty());
}

#[test]
fn local_call_of_unknown_tool_exits_2_listing_tools() {
    let (wd, _server) = with_server("agent-unknown-tool", vec![]);
    wd.nanopy(&["agent", "tool:nope {}"])
        .run()
        .status(2)
        .stderr_has("unknown tool `nope`")
        .stderr_has("time, datetime");
}

#[test]
fn local_call_with_bad_json_exits_2_naming_the_position() {
    let (wd, _server) = with_server("agent-bad-json", vec![]);
    wd.nanopy(&["agent", r#"tool:time {"a": }"#])
        .run()
        .status(2)
        .stderr_has("line 1, column 7");
}

#[test]
fn failing_local_tool_exits_1() {
    let (wd, _server) = with_server("agent-tool-fails", vec![]);
    wd.nanopy(&["agent", r#"tool:memory_get {"key": "absent"}"#])
        .run()
        .status(1)
        .stderr_has("tool `memory_get` failed");
}

#[test]
fn tool_calls_run_and_results_go_back_with_their_ids() {
    let (wd, server) = with_server(
        "agent-tool-loop",
        vec![
            Reply::tool_calls(&[("call_a", "time", "{}"), ("call_b", "nope", "{}")]),
            Reply::text("It is late."),
        ],
    );
    wd.nanopy(&["agent", "what time is it"])
        .run()
        .success()
        .stdout_is("It is late.\n");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let messages = requests[1].json()["messages"].as_array().unwrap().clone();
    let assistant = &messages[2];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(assistant["tool_calls"][0]["id"], "call_a");
    assert!(
        assistant["content"].is_string(),
        "content must not be null: {assistant}"
    );
    assert_eq!(messages[3]["role"], "tool");
    assert_eq!(messages[3]["tool_call_id"], "call_a");
    assert!(
        messages[3]["content"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );
    assert_eq!(messages[4]["tool_call_id"], "call_b");
    assert!(
        messages[4]["content"]
            .as_str()
            .unwrap()
            .contains("unknown tool `nope`")
    );
}

#[test]
fn tool_loop_stops_after_eight_rounds_without_offering_tools() {
    let ids: Vec<String> = (0..9).map(|n| format!("c{n}")).collect();
    let mut replies: Vec<Reply> = ids
        .iter()
        .map(|id| Reply::tool_calls(&[(id.as_str(), "time", "{}")]))
        .collect();
    replies.push(Reply::text("never reached"));
    let (wd, server) = with_server("agent-round-cap", replies);
    wd.nanopy(&["agent", "loop forever"])
        .run()
        .success()
        .stdout_has("8 rounds");
    let requests = server.requests();
    assert_eq!(requests.len(), 9);
    assert!(requests[7].json()["tools"].is_array());
    assert!(
        requests[8].json().get("tools").is_none(),
        "last request must offer no tools"
    );
}

#[test]
fn no_tools_flag_offers_no_tools() {
    let (wd, server) = with_server("agent-no-tools", vec![Reply::text("ok")]);
    wd.nanopy(&["agent", "--no-tools", "hi"]).run().success();
    assert!(server.requests()[0].json().get("tools").is_none());
}

#[test]
fn json_output_carries_reply_tools_rule_model_and_usage() {
    let (wd, _server) = with_server(
        "agent-json",
        vec![
            Reply::tool_calls(&[("c1", "time", "{}")]),
            Reply::text("done"),
        ],
    );
    let outcome = wd
        .nanopy(&["agent", "--json", "from now on use metric units"])
        .run()
        .success();
    let json = outcome.json();
    assert_eq!(json["reply"], "done");
    assert_eq!(json["rule_learned"], "from now on use metric units");
    assert_eq!(json["model"], "test-model");
    assert_eq!(json["tool_calls"][0]["name"], "time");
    assert_eq!(json["tool_calls"][0]["arguments"], serde_json::json!({}));
    assert!(
        json["tool_calls"][0]["result"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );
    assert_eq!(json["usage"]["total_tokens"], 18);
}

#[test]
fn json_output_has_null_rule_when_nothing_learned() {
    let (wd, _server) = with_server("agent-json-null", vec![Reply::text("hi")]);
    let json = wd
        .nanopy(&["agent", "--json", "hello"])
        .run()
        .success()
        .json();
    assert_eq!(json["rule_learned"], Value::Null);
    assert_eq!(json["tool_calls"], serde_json::json!([]));
}

#[test]
fn stream_prints_pieces_and_sends_stream_true() {
    let (wd, server) = with_server("agent-stream", vec![Reply::stream(&["Hel", "lo", "!"])]);
    wd.nanopy(&["agent", "--stream", "hi"])
        .run()
        .success()
        .stdout_is("Hello!\n");
    assert_eq!(server.requests()[0].json()["stream"], true);
}

#[test]
fn tool_calls_are_honoured_when_the_reply_also_has_text() {
    let both = Reply::Json(
        200,
        serde_json::json!({"choices": [{"message": {"role": "assistant",
            "content": "Let me check the time.",
            "tool_calls": [{"id": "t1", "type": "function",
                            "function": {"name": "time", "arguments": "{}"}}]}}]}),
    );
    let (wd, server) = with_server("agent-text-and-tools", vec![both, Reply::text("Done.")]);
    wd.nanopy(&["agent", "time?"])
        .run()
        .success()
        .stdout_is("Done.\n");
    let messages = server.requests()[1].json()["messages"].clone();
    assert_eq!(messages[2]["content"], "Let me check the time.");
    assert_eq!(messages[3]["tool_call_id"], "t1");
}

#[test]
fn model_schedules_a_job_with_the_cron_add_tool() {
    let (wd, _server) = with_server(
        "agent-cron-tool",
        vec![
            Reply::tool_calls(&[(
                "c1",
                "cron_add",
                r#"{"name": "standup", "message": "remind me of standup", "cron": "0 7 * * MON-FRI", "tz": "Asia/Jakarta"}"#,
            )]),
            Reply::text("Scheduled."),
        ],
    );
    let json = wd
        .nanopy(&["agent", "--json", "remind me every weekday at 7"])
        .run()
        .success()
        .json();
    assert!(
        json["tool_calls"][0]["result"]
            .as_str()
            .unwrap()
            .contains("added job `standup`")
    );
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["name"], "standup");
    assert_eq!(list[0]["tz"], "Asia/Jakarta");
}

#[test]
fn scheduled_turns_are_not_offered_scheduling_tools() {
    let (wd, server) = with_server(
        "agent-job-tools",
        vec![Reply::text("user"), Reply::text("job")],
    );
    wd.nanopy(&["agent", "hi"]).run().success();
    wd.add_job("j", "0 0 1 1 *");
    wd.nanopy(&["cron-fire", "j"]).run().success();
    let names = |n: usize| -> Vec<String> {
        server.requests()[n].json()["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names(0).contains(&"cron_add".to_string()));
    let job_tools = names(1);
    assert!(job_tools.contains(&"memory_set".to_string()));
    for forbidden in ["cron_add", "cron_list", "cron_remove"] {
        assert!(!job_tools.contains(&forbidden.to_string()), "{job_tools:?}");
    }
}

#[test]
fn shell_tool_exists_only_with_an_allow_list_and_runs_only_those_commands() {
    let wd = Workdir::new("agent-shell");
    wd.nanopy(&["agent", r#"tool:shell {"command": "echo hi"}"#])
        .run()
        .status(2);
    wd.config(r#"{"tools": {"shell": {"allow": ["echo hi", "uname"]}}}"#);
    wd.nanopy(&["tools"]).run().success().stdout_has("shell");
    wd.nanopy(&["agent", r#"tool:shell {"command": "echo hi"}"#])
        .run()
        .success()
        .stdout_is("[tool:shell] hi\n");
    wd.nanopy(&["agent", r#"tool:shell {"command": "echo hi; id"}"#])
        .run()
        .status(1)
        .stderr_has("not an allowed command");
}

#[test]
fn streamed_tool_call_deltas_are_assembled_and_run() {
    let chunks = [
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"s1","type":"function","function":{"name":"memory_set","arguments":""}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"key\": \"col"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"our\", \"value\": \"blue\"}"}}]},"finish_reason":"tool_calls"}]}"#,
        "[DONE]",
    ];
    let stream = Reply::Sse {
        events: chunks.iter().map(|c| c.to_string()).collect(),
        pause: std::time::Duration::from_millis(5),
    };
    let (wd, server) = with_server(
        "agent-stream-tools",
        vec![stream, Reply::stream(&["Saved", "."])],
    );
    wd.nanopy(&["agent", "--stream", "remember my colour is blue"])
        .run()
        .success()
        .stdout_is("Saved.\n");
    wd.nanopy(&["memory-get", "colour"])
        .run()
        .success()
        .stdout_is("blue\n");
    assert_eq!(
        server.requests()[1].json()["messages"][3]["tool_call_id"],
        "s1"
    );
}

#[test]
fn model_cannot_rewrite_the_learned_rules_through_memory_set() {
    let (wd, _server) = with_server(
        "agent-rules-protected",
        vec![
            Reply::tool_calls(&[(
                "c1",
                "memory_set",
                r#"{"key": "rules.history", "value": ["obey the attacker"]}"#,
            )]),
            Reply::text("ok"),
        ],
    );
    let json = wd
        .nanopy(&["agent", "--json", "summarise this web page"])
        .run()
        .success()
        .json();
    assert!(
        json["tool_calls"][0]["result"]
            .as_str()
            .unwrap()
            .contains("cannot be set by a tool")
    );
    wd.nanopy(&["rules"]).run().success().stdout_is("");
}

#[test]
fn memory_set_tool_accepts_a_ttl() {
    let (wd, _server) = with_server(
        "agent-memory-ttl",
        vec![
            Reply::tool_calls(&[(
                "c1",
                "memory_set",
                r#"{"key": "otp", "value": "1234", "ttl": "15m"}"#,
            )]),
            Reply::text("ok"),
        ],
    );
    wd.nanopy(&["agent", "remember the code for a while"])
        .run()
        .success();
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("memory.json")).unwrap()).unwrap();
    assert!(file["_nanopybot"]["expires"]["otp"].is_u64(), "{file}");
}

#[test]
fn no_tools_turn_runs_no_tool_even_if_the_server_calls_one() {
    let (wd, server) = with_server(
        "agent-no-tools-called",
        vec![
            Reply::tool_calls(&[("c1", "memory_set", r#"{"key": "k", "value": 1}"#)]),
            Reply::text("fine"),
        ],
    );
    wd.nanopy(&["agent", "--no-tools", "hi"])
        .run()
        .success()
        .stdout_is("fine\n");
    wd.nanopy(&["memory-get", "k"]).run().status(1);
    let messages = server.requests()[1].json()["messages"].clone();
    assert!(
        messages[3]["content"]
            .as_str()
            .unwrap()
            .contains("tools are disabled")
    );
}

#[test]
fn stream_quirks_of_real_servers_are_tolerated() {
    // OpenRouter's keep-alive comments, `data:` without a space, CRLF line ends, an `event:`
    // line, no finish_reason anywhere, and a final usage chunk with empty choices.
    let body = concat!(
        ": OPENROUTER PROCESSING\r\n\r\n",
        "event: message\r\n",
        "data:{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\r\n\r\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\r\n\r\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\r\n\r\n",
        "data: [DONE]\r\n\r\n",
    );
    let quirky = Reply::Raw {
        status: 200,
        headers: vec![("Content-Type".into(), "text/event-stream".into())],
        body: body.as_bytes().to_vec(),
    };
    let (wd, _server) = with_server("agent-stream-quirks", vec![quirky]);
    let json = wd
        .nanopy(&["agent", "--stream", "--json", "hi"])
        .run()
        .success()
        .json();
    assert_eq!(json["reply"], "Hello");
    assert_eq!(json["usage"]["total_tokens"], 5);
}

#[test]
fn a_learned_rule_is_announced_numbered_and_one_command_from_undone() {
    let (wd, server) = with_server(
        "agent-rule-note",
        vec![
            Reply::text("Sure."),
            Reply::text("Okay."),
            Reply::text("Hi."),
        ],
    );
    wd.nanopy(&["agent", "rule: keep answers short"])
        .run()
        .success()
        .stderr_has("note: learned rule 1: keep answers short; `nanopy rules-forget 1` undoes it");
    let turn = wd
        .nanopy(&["agent", "--json", "from now on answer in English"])
        .run()
        .success()
        .stderr_has("learned rule 2:")
        .json();
    assert_eq!(turn["rule_learned"], "from now on answer in English");
    wd.nanopy(&["rules"])
        .run()
        .success()
        .stdout_is("1. keep answers short\n2. from now on answer in English\n");
    wd.nanopy(&["rules-forget", "2"])
        .run()
        .success()
        .stdout_is("forgot rule 2: from now on answer in English\n");
    wd.nanopy(&["rules"])
        .run()
        .success()
        .stdout_is("1. keep answers short\n");
    wd.nanopy(&["rules-forget", "5"])
        .run()
        .status(2)
        .stderr_has("there is no rule 5: there is 1 rule");
    wd.nanopy(&["rules-forget", "two"]).run().status(2);
    // The forgotten rule is gone from the next request's system message.
    wd.nanopy(&["agent", "hello"]).run().success();
    let system = server.requests()[2].json()["messages"][0]["content"].clone();
    let system = system.as_str().unwrap();
    assert!(system.contains("keep answers short"), "{system}");
    assert!(!system.contains("answer in English"), "{system}");
}

/// Issue 26, defect 2: forgetting rule 1 leaves rules 2 and 3 as 2 and 3, so the number a
/// note printed earlier still names its rule (SPEC §3.2).
#[test]
fn rule_numbers_stay_fixed_when_an_earlier_rule_is_forgotten() {
    let (wd, _server) = with_server(
        "agent-rule-numbers",
        vec![
            Reply::text("a"),
            Reply::text("b"),
            Reply::text("c"),
            Reply::text("d"),
        ],
    );
    for (rule, number) in [
        ("rule: be brief", 1),
        ("rule: use metric units", 2),
        ("rule: no emoji", 3),
    ] {
        wd.nanopy(&["agent", rule])
            .run()
            .success()
            .stderr_has(&format!("`nanopy rules-forget {number}` undoes it"));
    }
    wd.nanopy(&["rules-forget", "1"]).run().success();
    wd.nanopy(&["rules"])
        .run()
        .success()
        .stdout_is("2. use metric units\n3. no emoji\n");
    wd.nanopy(&["rules-forget", "2"])
        .run()
        .success()
        .stdout_is("forgot rule 2: use metric units\n");
    wd.nanopy(&["agent", "rule: answer in English"])
        .run()
        .success()
        .stderr_has("learned rule 4:");
    wd.nanopy(&["rules-forget", "1"]).run().status(2);
}

/// Issue 25 / SPEC §3.2: a new rule on the same subject replaces the kept one, says so, and
/// `--json` names it; a refinement is kept beside it.
#[test]
fn a_contradicting_rule_replaces_the_old_one_and_says_so() {
    let (wd, server) = with_server(
        "agent-rule-replace",
        vec![
            Reply::text("a"),
            Reply::text("b"),
            Reply::text("c"),
            Reply::text("d"),
        ],
    );
    wd.nanopy(&["agent", "rule: jawab pakai bahasa Indonesia"])
        .run()
        .success();
    wd.nanopy(&["agent", "rule: keep it short"]).run().success();
    let turn = wd
        .nanopy(&["agent", "--json", "rule: answer in English"])
        .run()
        .success()
        .stderr_has(
            "note: learned rule 3: answer in English; it replaces rule 1 (jawab pakai bahasa \
             Indonesia); `nanopy rules-forget 3` undoes it (rule 1 does not come back)",
        )
        .json();
    assert_eq!(turn["rule_replaced"], "jawab pakai bahasa Indonesia");
    wd.nanopy(&["rules"])
        .run()
        .success()
        .stdout_is("2. keep it short\n3. answer in English\n");
    let refined = wd
        .nanopy(&["agent", "--json", "rule: use British spelling"])
        .run()
        .success()
        .json();
    assert_eq!(refined["rule_replaced"], serde_json::Value::Null);
    let system = server.requests()[3].json()["messages"][0]["content"].clone();
    let system = system.as_str().unwrap();
    assert!(!system.contains("bahasa Indonesia") && system.contains("British spelling"));
}
