//! Small local models (SPEC §15): reasoning blocks and fields never printed, stored or sent
//! back, also when a block arrives split across stream chunks.

use crate::support::{Reply, with_server};
use serde_json::json;
use std::time::Duration;

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
    let mut events: Vec<String> = pieces
        .iter()
        .map(|piece| json!({"choices": [{"delta": {"content": piece}}]}).to_string())
        .collect();
    events.push("[DONE]".into());
    let stream = Reply::Sse {
        events,
        pause: Duration::from_millis(10),
    };
    let (wd, _server) = with_server("think-stream", vec![stream]);
    wd.nanopy(&["agent", "--stream", "hi"])
        .run()
        .success()
        .stdout_is("Hello.\n")
        .never_shows("show this");
}
