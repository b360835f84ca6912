//! The provider client's failure handling: status errors, retries, timeouts, odd bodies.

use crate::support::{FakeServer, Reply, Workdir};
use serde_json::json;
use std::time::{Duration, Instant};

fn setup(name: &str, replies: Vec<Reply>, timeout: u64, retries: u32) -> (Workdir, FakeServer) {
    let server = FakeServer::start(replies);
    let wd = Workdir::new(name);
    wd.config(&format!(
        r#"{{"provider": {{"base_url": "{}", "api_key": "sk-test-secret-789", "timeout_secs": {timeout}, "max_retries": {retries}}}}}"#,
        server.base_url()
    ));
    (wd, server)
}

#[test]
fn http_error_exits_4_with_the_providers_message_and_no_key() {
    let (wd, server) = setup(
        "provider-401",
        vec![Reply::error(
            401,
            "Incorrect API key provided: sk-test-secret-789",
        )],
        10,
        2,
    );
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("HTTP 401")
        .stderr_has("Incorrect API key provided")
        .stderr_has(&server.base_url())
        .never_shows("sk-test-secret-789");
    assert_eq!(
        server.requests().len(),
        1,
        "4xx other than 408/429 must not be retried"
    );
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer sk-test-secret-789")
    );
}

#[test]
fn server_errors_are_retried_then_succeed() {
    let (wd, server) = setup(
        "provider-retry",
        vec![
            Reply::error(503, "busy"),
            Reply::error(500, "oops"),
            Reply::text("finally"),
        ],
        20,
        2,
    );
    wd.nanopy(&["agent", "hi"])
        .run()
        .success()
        .stdout_is("finally\n");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn retries_stop_at_max_retries() {
    let (wd, server) = setup(
        "provider-retry-cap",
        vec![
            Reply::error(502, "a"),
            Reply::error(502, "b"),
            Reply::text("late"),
        ],
        20,
        1,
    );
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("HTTP 502");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn retry_after_is_honoured() {
    let limited = Reply::Raw {
        status: 429,
        headers: vec![("Retry-After".into(), "1".into())],
        body: br#"{"error": {"message": "slow down"}}"#.to_vec(),
    };
    let (wd, server) = setup("provider-429", vec![limited, Reply::text("ok")], 20, 2);
    let start = Instant::now();
    wd.nanopy(&["agent", "hi"])
        .run()
        .success()
        .stdout_is("ok\n");
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn connection_refused_exits_4() {
    let wd = Workdir::new("provider-refused");
    let port = crate::support::closed_port();
    wd.config(&format!(
        r#"{{"provider": {{"base_url": "http://127.0.0.1:{port}/v1", "max_retries": 0}}}}"#
    ));
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("connection refused")
        .stderr_has(&format!("127.0.0.1:{port}"));
}

#[test]
fn timeout_bounds_the_whole_call() {
    let (wd, _server) = setup(
        "provider-timeout",
        vec![Reply::Delay(
            Duration::from_secs(5),
            Box::new(Reply::text("late")),
        )],
        1,
        3,
    );
    let start = Instant::now();
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("within 1s");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn invalid_json_body_exits_4() {
    let body = Reply::Raw {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: b"{not json".to_vec(),
    };
    let (wd, _server) = setup("provider-bad-json", vec![body], 10, 0);
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("not JSON");
}

#[test]
fn html_error_page_is_summarised_not_dumped() {
    let page = Reply::Raw {
        status: 502,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
    };
    let (wd, _server) = setup("provider-html", vec![page], 10, 0);
    let outcome = wd
        .nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("HTTP 502");
    assert!(!outcome.stderr().contains("<html>"), "{}", outcome.stderr());
    assert_eq!(outcome.stderr().lines().count(), 1);
}

#[test]
fn reply_without_text_or_tool_calls_exits_4() {
    for (name, body) in [
        ("provider-no-choices", json!({"choices": []})),
        (
            "provider-null-content",
            json!({"choices": [{"message": {"content": null}}]}),
        ),
        (
            "provider-null-everything",
            json!({"id": null, "choices": null, "usage": null}),
        ),
    ] {
        let (wd, _server) = setup(name, vec![Reply::Json(200, body)], 10, 0);
        wd.nanopy(&["agent", "hi"])
            .run()
            .status(4)
            .stderr_has("neither text nor tool calls");
    }
}

#[test]
fn sparse_response_with_nulls_is_accepted() {
    let body = json!({"id": null, "model": null, "usage": null,
                      "choices": [{"index": null, "finish_reason": null,
                                   "message": {"role": null, "content": "fine", "tool_calls": null}}]});
    let (wd, _server) = setup("provider-sparse", vec![Reply::Json(200, body)], 10, 0);
    wd.nanopy(&["agent", "hi"])
        .run()
        .success()
        .stdout_is("fine\n");
}

#[test]
fn error_object_in_a_200_body_exits_4() {
    let body = json!({"error": {"message": "model overloaded"}});
    let (wd, _server) = setup("provider-200-error", vec![Reply::Json(200, body)], 10, 0);
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("model overloaded");
}

#[test]
fn connection_closed_without_answer_exits_4() {
    let (wd, _server) = setup("provider-closed", vec![Reply::Close, Reply::Close], 10, 1);
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("provider `");
}

#[test]
fn connection_reset_mid_body_exits_4() {
    let cut = Reply::Truncated {
        declared: 500,
        sent: br#"{"choices": [{"message": {"content": "par"#.to_vec(),
    };
    let (wd, _server) = setup("provider-reset", vec![cut], 10, 0);
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("closed before the response was complete");
}

#[test]
fn slow_body_is_bounded_by_the_timeout() {
    let slow = Reply::SlowBody(Duration::from_secs(5), br#"{"choices": []}"#.to_vec());
    let (wd, _server) = setup("provider-slow-body", vec![slow], 1, 0);
    let start = Instant::now();
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("within 1s");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn service_unavailable_with_html_is_retried_then_reported() {
    let page = || Reply::Raw {
        status: 503,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: b"<!DOCTYPE html><html><body>Service Unavailable</body></html>".to_vec(),
    };
    let (wd, server) = setup("provider-503-html", vec![page(), page()], 20, 1);
    let outcome = wd
        .nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("HTTP 503");
    assert!(!outcome.stderr().contains("DOCTYPE"));
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn rate_limit_without_retry_after_backs_off_and_retries() {
    let (wd, server) = setup(
        "provider-429-plain",
        vec![Reply::error(429, "slow down"), Reply::text("ok")],
        20,
        2,
    );
    wd.nanopy(&["agent", "hi"])
        .run()
        .success()
        .stdout_is("ok\n");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn retry_after_beyond_the_timeout_gives_up_at_once_with_the_status() {
    let limited = Reply::Raw {
        status: 429,
        headers: vec![("Retry-After".into(), "30".into())],
        body: br#"{"error": {"message": "quota"}}"#.to_vec(),
    };
    let (wd, server) = setup(
        "provider-429-long",
        vec![limited, Reply::text("late")],
        2,
        3,
    );
    let start = Instant::now();
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("HTTP 429")
        .stderr_has("quota");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn twenty_megabyte_body_is_refused_without_exhausting_memory() {
    let mut body = br#"{"choices": [{"message": {"content": ""#.to_vec();
    body.extend(std::iter::repeat_n(b'x', 20 * 1024 * 1024));
    body.extend_from_slice(br#""}}]}"#);
    let huge = Reply::Raw {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body,
    };
    let (wd, _server) = setup("provider-huge", vec![huge], 30, 0);
    wd.nanopy(&["agent", "hi"])
        .run()
        .status(4)
        .stderr_has("larger than 16 MiB");
}

#[test]
fn https_proxy_from_the_environment_is_used_and_no_proxy_bypasses_it() {
    let proxy = FakeServer::start(vec![Reply::text("via proxy")]);
    let wd = Workdir::new("provider-proxy");
    wd.config(r#"{"provider": {"base_url": "http://api.example.invalid/v1", "max_retries": 0}}"#);
    let proxy_url = proxy.base_url().trim_end_matches("/v1").to_string();
    wd.nanopy(&["agent", "hi"])
        .env("HTTPS_PROXY", &proxy_url)
        .run()
        .success()
        .stdout_is("via proxy\n");
    let seen = proxy.requests();
    assert_eq!(seen[0].method, "CONNECT");
    assert!(seen[0].path.starts_with("api.example.invalid:"), "{seen:?}");
    assert_eq!(seen[1].path, "/v1/chat/completions");

    let direct = FakeServer::start(vec![Reply::text("direct")]);
    wd.config_for(&direct);
    wd.nanopy(&["agent", "hi"])
        .env(
            "HTTPS_PROXY",
            &format!("http://127.0.0.1:{}", crate::support::closed_port()),
        )
        .env("NO_PROXY", "127.0.0.1")
        .run()
        .success()
        .stdout_is("direct\n");
}

#[test]
fn stalled_stream_is_cut_by_the_per_read_timeout() {
    let first = json!({"choices": [{"delta": {"content": "partial"}}]}).to_string();
    let stalled = Reply::Sse {
        events: vec![first, "[DONE]".into()],
        pause: Duration::from_secs(5),
    };
    let (wd, _server) = setup("provider-stream-stall", vec![stalled], 1, 0);
    let start = Instant::now();
    wd.nanopy(&["agent", "--stream", "hi"])
        .run()
        .status(4)
        .stdout_is("partial")
        .stderr_has("within 1s");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn long_stream_that_keeps_talking_outlives_the_timeout() {
    let pieces: Vec<String> = (0..6)
        .map(|n| json!({"choices": [{"delta": {"content": format!("{n}")}}]}).to_string())
        .chain(std::iter::once("[DONE]".to_string()))
        .collect();
    let chatty = Reply::Sse {
        events: pieces,
        pause: Duration::from_millis(300),
    };
    // 7 events 300 ms apart take ~2 s in all, longer than the 1 s timeout, but no read waits
    // longer than 300 ms.
    let (wd, _server) = setup("provider-stream-long", vec![chatty], 1, 0);
    wd.nanopy(&["agent", "--stream", "count"])
        .run()
        .success()
        .stdout_is("012345\n");
}

fn event_stream(body: &str) -> Reply {
    Reply::Raw {
        status: 200,
        headers: vec![("Content-Type".into(), "text/event-stream".into())],
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn stream_cut_off_before_the_end_exits_4() {
    let cut = event_stream("data: {\"choices\":[{\"delta\":{\"content\":\"The answer is\"}}]}\n\n");
    let (wd, _server) = setup("provider-stream-cut", vec![cut], 10, 0);
    wd.nanopy(&["agent", "--stream", "hi"])
        .run()
        .status(4)
        .stderr_has("ended before the reply was complete");
}

#[test]
fn stream_with_a_finish_reason_but_no_done_is_complete() {
    let finished = event_stream(
        "data: {\"choices\":[{\"delta\":{\"content\":\"All here.\"},\"finish_reason\":\"stop\"}]}\n\n",
    );
    let (wd, _server) = setup("provider-stream-finish", vec![finished], 10, 0);
    wd.nanopy(&["agent", "--stream", "hi"])
        .run()
        .success()
        .stdout_is("All here.\n");
}

#[test]
fn endless_stream_is_cut_at_the_size_cap() {
    let piece = "data: {\"choices\":[{\"delta\":{\"content\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}]}\n\n";
    let huge = event_stream(&piece.repeat(20 * 1024 * 1024 / piece.len()));
    let (wd, _server) = setup("provider-stream-huge", vec![huge], 30, 0);
    let outcome = wd.nanopy(&["agent", "--stream", "--json", "hi"]).run();
    outcome.status(4).stderr_has("larger than 16 MiB");
}
