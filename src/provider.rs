//! The OpenAI-compatible chat-completions client: one blocking client per provider, with a
//! retry layer, lenient response parsing and server-sent-event streaming. The wire types it
//! sends and returns are in [`crate::chat`]; the HTTP client settings in [`crate::http`].

use crate::chat::{Chat, ChatReply, ChatRequest, FunctionCall, ToolCall};
use crate::config::ProviderConfig;
use crate::error::{Error, Result};
use crate::http::{describe_transport, no_redirect_agent, redact_userinfo};
use serde_json::Value;
use std::hash::{BuildHasher, RandomState};
use std::io::{BufRead, BufReader, Read};
use std::thread;
use std::time::{Duration, Instant};

/// Responses larger than this are refused rather than held in memory.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;
/// The longest wait a server may ask for with `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The first backoff; doubled for every further retry, then jittered.
const BASE_BACKOFF: Duration = Duration::from_millis(500);
/// Statuses worth another try: the server is busy, restarting or rate limiting.
const RETRYABLE_STATUSES: &[u16] = &[408, 429, 500, 502, 503, 504];

/// A client for one endpoint. A clone shares the connection pool and the key.
#[derive(Clone)]
pub struct Provider {
    agent: ureq::Agent,
    endpoint: String,
    api_key: String,
    timeout: Duration,
    max_retries: u32,
    /// Whether a refused connection or an unknown host is retried. Not when another provider
    /// comes next: a server that is not there will not be there in a second either, and
    /// the next provider is the better retry (SPEC §7: ≤ 50 ms before the fallback's request).
    retry_unreachable: bool,
}

impl Chat for Provider {
    fn send(&self, request: &ChatRequest, on_text: &mut dyn FnMut(&str)) -> Result<ChatReply> {
        if request.stream {
            self.stream(request, on_text)
        } else {
            self.complete(request)
        }
    }
}

/// How one attempt ended, for the retry decision.
enum Attempt {
    Done(ureq::http::Response<ureq::Body>),
    Retry {
        error: Error,
        wait: Option<Duration>,
    },
    Fail(Error),
}

impl Provider {
    /// A client for `{base_url}/chat/completions`.
    pub fn new(config: &ProviderConfig) -> Result<Provider> {
        let base_url = config.base_url.trim_end_matches('/');
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "provider base_url `{}` must start with http:// or https://",
                redact_userinfo(base_url)
            )));
        }
        if config.timeout_secs == 0 {
            return Err(Error::Config(
                "provider timeout_secs must be at least 1".into(),
            ));
        }
        let api_key = match &config.api_key_cmd {
            Some(command) => key_from_command(&config.name, command)?,
            None => config.api_key.clone(),
        };
        Ok(Provider {
            agent: no_redirect_agent(),
            endpoint: format!("{base_url}/chat/completions"),
            api_key,
            timeout: Duration::from_secs(config.timeout_secs),
            max_retries: config.max_retries,
            retry_unreachable: true,
        })
    }

    /// The same client, failing at once when the server is not there (a fallback follows).
    pub fn without_unreachable_retries(self) -> Provider {
        Provider {
            retry_unreachable: false,
            ..self
        }
    }

    /// The endpoint as shown in messages: no credentials.
    pub fn endpoint(&self) -> String {
        redact_userinfo(&self.endpoint)
    }

    /// One completion. `timeout_secs` bounds the whole call, retries included.
    fn complete(&self, request: &ChatRequest) -> Result<ChatReply> {
        let body = serde_json::to_vec(request).expect("requests always serialise");
        let deadline = Instant::now() + self.timeout;
        let mut response = self.send_with_retries(&body, deadline, None)?;
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(|error| self.transport_error(error))?;
        self.parse_reply(&text)
    }

    /// A streamed completion: `on_text` gets each piece of content as it arrives. Each read
    /// waits at most `timeout_secs`, so a stream may run longer than one timeout in total but
    /// never stalls for longer.
    fn stream(&self, request: &ChatRequest, on_text: &mut dyn FnMut(&str)) -> Result<ChatReply> {
        let body = serde_json::to_vec(request).expect("requests always serialise");
        let deadline = Instant::now() + self.timeout;
        let response = self.send_with_retries(&body, deadline, Some(self.timeout))?;
        // The size cap holds for a stream too: a server that never stops must not fill memory.
        let body = response.into_body().into_reader().take(MAX_BODY_BYTES + 1);
        let mut assembly = StreamAssembly::default();
        // Text that may be a tool call written as text waits for the end of the stream.
        let offered: Vec<&str> = request
            .tools
            .iter()
            .filter_map(|tool| tool["function"]["name"].as_str())
            .collect();
        let mut held = CallHold::new(!offered.is_empty());
        let mut done = false;
        let mut received = 0;
        for line in BufReader::new(body).lines() {
            let line = line.map_err(|error| self.io_error(&error))?;
            received += line.len() as u64 + 1;
            if received > MAX_BODY_BYTES {
                return Err(self.too_large());
            }
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let data = data.trim();
            if data == "[DONE]" {
                done = true;
                break;
            }
            if data.is_empty() {
                continue;
            }
            let chunk: Value = serde_json::from_str(data)
                .map_err(|error| self.invalid(&format!("a stream event is not JSON ({error})")))?;
            if let Some(message) = error_message(&chunk) {
                return Err(self.failure(message));
            }
            if let Some(text) = assembly.add(&chunk) {
                let shown = held.push(&text);
                if !shown.is_empty() {
                    on_text(&shown);
                }
            }
        }
        // A connection that ends with neither `[DONE]` nor a finish reason was cut short: its
        // text is a truncated answer, not a reply.
        if !done && !assembly.finished {
            return Err(self.failure(
                "the stream ended before the reply was complete (no [DONE] or finish_reason)"
                    .into(),
            ));
        }
        if let Some(text) = assembly.rest() {
            let shown = held.push(&text);
            if !shown.is_empty() {
                on_text(&shown);
            }
        }
        let reply = assembly.finish();
        // Held text is printed unless it is calls the turn will run.
        let is_calls = reply.tool_calls.is_empty()
            && reply
                .content
                .as_deref()
                .is_some_and(|content| crate::text_calls::recover(content, &offered).is_some());
        let rest = held.finish();
        if !is_calls && !rest.is_empty() {
            on_text(&rest);
        }
        self.check_usable(reply)
    }

    /// Checks that the server answers as an OpenAI-compatible API, for `doctor`: a GET of
    /// `{base_url}/models`, bounded to a few seconds, must give a models list. A refused key,
    /// a 404/405/501 or a body that is not a models list is a problem, named with the URL
    /// really requested; a busy or failing server (429, 5xx) counts as reachable.
    pub fn probe(&self) -> Result<String> {
        let url = self
            .endpoint
            .trim_end_matches("/chat/completions")
            .to_string()
            + "/models";
        let mut request = self.agent.get(&url);
        if !self.api_key.is_empty() {
            request = request.header("Authorization", format!("Bearer {}", self.api_key));
        }
        let timeout = self.timeout.min(Duration::from_secs(5));
        let sent = format!("GET {}", redact_userinfo(&url));
        let mut response = request
            .config()
            .timeout_global(Some(timeout))
            .build()
            .call()
            .map_err(|error| Error::Failed(format!("{sent}: {}", describe_transport(&error))))?;
        let status = response.status().as_u16();
        let not_the_api = |what: String| {
            Err(Error::Failed(format!(
                "{sent} answered {what}: this is not an OpenAI-compatible API (check base_url; \
                 it usually ends in /v1)"
            )))
        };
        match status {
            401 | 403 => Err(Error::Failed(format!(
                "{sent} answered HTTP {status}: the server rejected the API key"
            ))),
            404 | 405 | 501 => not_the_api(format!("HTTP {status}")),
            200..=299 => {
                // The models list is `{"data": [...]}`; anything else is some other server.
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_BODY_BYTES)
                    .read_to_string()
                    .unwrap_or_default();
                let models = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|value| Some(value.get("data")?.as_array()?.len()));
                match models {
                    Some(count) => Ok(format!(
                        "reachable: {sent} answered HTTP {status} with {count} model{}",
                        if count == 1 { "" } else { "s" }
                    )),
                    None => not_the_api(format!("HTTP {status} without a models list")),
                }
            }
            // Busy or broken for now, but there: the turn's own retries deal with that.
            _ => Ok(format!("reachable: {sent} answered HTTP {status}")),
        }
    }

    fn send_with_retries(
        &self,
        body: &[u8],
        deadline: Instant,
        per_read: Option<Duration>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let mut retry = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(self.timed_out());
            }
            match self.attempt(body, remaining, per_read) {
                Attempt::Done(response) => return Ok(response),
                Attempt::Fail(error) => return Err(error),
                Attempt::Retry { error, wait } => {
                    let wait = wait.unwrap_or_else(|| backoff(retry));
                    // Out of retries, or the wait would outlast the timeout: this error is
                    // the answer.
                    if retry >= self.max_retries || Instant::now() + wait >= deadline {
                        return Err(error);
                    }
                    thread::sleep(wait);
                    retry += 1;
                }
            }
        }
    }

    fn attempt(&self, body: &[u8], remaining: Duration, per_read: Option<Duration>) -> Attempt {
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/json");
        if !self.api_key.is_empty() {
            request = request.header("Authorization", format!("Bearer {}", self.api_key));
        }
        // A stream is bounded per read instead: a long answer may take longer than one
        // timeout in total while never going quiet.
        let global = if per_read.is_some() {
            None
        } else {
            Some(remaining)
        };
        let request = request
            .config()
            .timeout_global(global)
            .timeout_connect(Some(remaining))
            .timeout_recv_response(Some(remaining))
            .timeout_per_read(per_read)
            .build();
        match request.send(body) {
            Ok(response) if response.status().is_success() => Attempt::Done(response),
            Ok(mut response) => {
                let status = response.status().as_u16();
                let wait = retry_after(&response);
                let text = response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .lossy_utf8(true)
                    .read_to_string()
                    .unwrap_or_default();
                let reason = response.status().canonical_reason().unwrap_or("");
                let mut message = status_message(status, reason, &text);
                if (300..400).contains(&status) {
                    let location = response
                        .headers()
                        .get("location")
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or("nowhere (no Location header)");
                    message = format!(
                        "HTTP {status} {reason}: redirected to `{}`; not followed (the key \
                         goes to the configured server only): fix `base_url`",
                        redact_userinfo(location)
                    );
                }
                let error = self.failure_with_status(Some(status), message);
                if RETRYABLE_STATUSES.contains(&status) {
                    Attempt::Retry { error, wait }
                } else {
                    Attempt::Fail(error)
                }
            }
            Err(error) => {
                let unreachable = matches!(
                    error,
                    ureq::Error::ConnectionFailed | ureq::Error::HostNotFound
                ) || matches!(&error, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused);
                let retryable = if unreachable {
                    self.retry_unreachable && !matches!(error, ureq::Error::HostNotFound)
                } else {
                    matches!(error, ureq::Error::Io(_))
                };
                let error = self.transport_error(error);
                if retryable {
                    Attempt::Retry { error, wait: None }
                } else {
                    Attempt::Fail(error)
                }
            }
        }
    }

    fn parse_reply(&self, text: &str) -> Result<ChatReply> {
        let value: Value = serde_json::from_str(text).map_err(|error| {
            self.invalid(&format!(
                "the response is not JSON ({error}): {}",
                snippet(text)
            ))
        })?;
        if let Some(message) = error_message(&value) {
            return Err(self.failure(message));
        }
        let choice = value.get("choices").and_then(|c| c.get(0));
        let message = choice.and_then(|c| c.get("message"));
        let reply = ChatReply {
            // Reasoning (`<think>…`, `reasoning_content`) never leaves the client.
            content: message
                .and_then(|m| content_text(m.get("content")))
                .map(|text| crate::reasoning::strip(&text))
                .filter(|text| !text.is_empty()),
            tool_calls: message
                .and_then(|m| m.get("tool_calls"))
                .and_then(Value::as_array)
                .map(|calls| {
                    calls
                        .iter()
                        .enumerate()
                        .filter_map(|(n, call)| tool_call(call, n))
                        .collect()
                })
                .unwrap_or_default(),
            model: value
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string),
            usage: value.get("usage").filter(|u| !u.is_null()).cloned(),
        };
        self.check_usable(reply)
    }

    fn check_usable(&self, reply: ChatReply) -> Result<ChatReply> {
        let has_text = reply
            .content
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
        if has_text || !reply.tool_calls.is_empty() {
            Ok(reply)
        } else {
            Err(self.invalid("the reply has neither text nor tool calls"))
        }
    }

    fn transport_error(&self, error: ureq::Error) -> Error {
        let message = match error {
            ureq::Error::Timeout(_) => return self.timed_out(),
            ureq::Error::Io(io) => return self.io_error(&io),
            ureq::Error::HostNotFound => "host not found (DNS lookup failed)".to_string(),
            ureq::Error::ConnectionFailed => "connection failed".to_string(),
            ureq::Error::BodyExceedsLimit(_) => return self.too_large(),
            ureq::Error::Tls(detail) => format!("TLS error: {detail}"),
            other => other.to_string(),
        };
        self.failure(message)
    }

    fn io_error(&self, error: &std::io::Error) -> Error {
        use std::io::ErrorKind::*;
        // Reading a streamed body, ureq reports its own errors (a per-read timeout) inside
        // an io::Error.
        let inner = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<ureq::Error>());
        if let Some(ureq::Error::Timeout(_)) = inner {
            return self.failure(format!(
                "the stream sent nothing within {}s (provider.timeout_secs)",
                self.timeout.as_secs()
            ));
        }
        let message = match error.kind() {
            ConnectionRefused => "connection refused: is the server running?".to_string(),
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                "the connection was closed before the response was complete".to_string()
            }
            TimedOut | WouldBlock => return self.timed_out(),
            _ => format!("network error: {error}"),
        };
        self.failure(message)
    }

    fn too_large(&self) -> Error {
        self.failure(format!(
            "the response is larger than {} MiB",
            MAX_BODY_BYTES / (1024 * 1024)
        ))
    }

    fn timed_out(&self) -> Error {
        self.failure(format!(
            "no complete answer within {}s (provider.timeout_secs)",
            self.timeout.as_secs()
        ))
    }

    fn invalid(&self, detail: &str) -> Error {
        self.failure(format!("unusable response: {detail}"))
    }

    fn failure(&self, message: String) -> Error {
        self.failure_with_status(None, message)
    }

    fn failure_with_status(&self, status: Option<u16>, message: String) -> Error {
        Error::Provider {
            status,
            endpoint: self.endpoint(),
            // A server may echo the request, key included, in its error text.
            message: if self.api_key.is_empty() {
                message
            } else {
                message.replace(&self.api_key, "[redacted]")
            },
        }
    }
}

/// How long `api_key_cmd` may take (SPEC §9).
const KEY_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `api_key_cmd` with `sh -c`; its trimmed stdout is the key. A failure names the
/// provider and the command's exit, never its output, which may hold the key.
fn key_from_command(provider: &str, command: &str) -> Result<String> {
    let fail = |why: String| {
        Error::Config(format!(
            "provider `{provider}`: api_key_cmd {why}; its output is not shown"
        ))
    };
    let ran = crate::child::run(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null()),
        None,
        KEY_COMMAND_TIMEOUT,
        64 * 1024,
    )
    .map_err(|trouble| match trouble {
        crate::child::Trouble::Start(error) => fail(format!("could not start ({error})")),
        crate::child::Trouble::Wait(error) => fail(format!("could not be waited for ({error})")),
    })?;
    match ran.status {
        Some(status) if status.success() => {}
        Some(status) => return Err(fail(format!("failed ({status})"))),
        None => {
            return Err(fail(format!(
                "did not finish within {}s",
                KEY_COMMAND_TIMEOUT.as_secs()
            )));
        }
    }
    let bytes = ran.stdout.bytes;
    let key =
        String::from_utf8(bytes).map_err(|_| fail("printed something that is not text".into()))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(fail("printed nothing".into()));
    }
    Ok(key.to_string())
}

/// Streamed text held back while it may be a tool call written as text (SPEC §15): once the
/// text so far cannot open one it all passes; otherwise it waits for the end of the stream.
struct CallHold {
    held: String,
    /// Decided: everything passes (also from the start when no tool is on offer).
    open: bool,
}

impl CallHold {
    fn new(tools_offered: bool) -> CallHold {
        CallHold {
            held: String::new(),
            open: !tools_offered,
        }
    }

    /// Takes a piece; returns what may be printed now.
    fn push(&mut self, piece: &str) -> String {
        if self.open {
            return piece.to_string();
        }
        self.held.push_str(piece);
        if self.held.trim().is_empty() || crate::text_calls::may_be_call(&self.held) {
            return String::new();
        }
        self.open = true;
        std::mem::take(&mut self.held)
    }

    /// What is still held at the end.
    fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

/// A tool call while its pieces stream in.
#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Builds a reply from stream chunks: content pieces appended, tool calls assembled by index
/// (id and name arrive first, argument pieces after).
#[derive(Default)]
struct StreamAssembly {
    /// Whether a chunk carried a finish reason: the reply is complete even without `[DONE]`.
    finished: bool,
    content: String,
    calls: Vec<PartialCall>,
    model: Option<String>,
    usage: Option<Value>,
    /// What of the content may be printed: reasoning is held back.
    shown: crate::reasoning::StreamFilter,
}

impl StreamAssembly {
    /// Takes one chunk; returns its content piece, if any, for printing.
    fn add(&mut self, chunk: &Value) -> Option<String> {
        if let Some(model) = chunk.get("model").and_then(Value::as_str) {
            self.model = Some(model.to_string());
        }
        if let Some(usage) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = Some(usage.clone());
        }
        let choice = chunk.get("choices")?.get(0)?;
        if choice
            .get("finish_reason")
            .is_some_and(|reason| !reason.is_null())
        {
            self.finished = true;
        }
        let delta = choice.get("delta")?;
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for (position, call) in calls.iter().enumerate() {
                let index = call
                    .get("index")
                    .and_then(Value::as_u64)
                    .map_or(position, |i| i as usize);
                while self.calls.len() <= index {
                    self.calls.push(Default::default());
                }
                let slot = &mut self.calls[index];
                if let Some(id) = call.get("id").and_then(Value::as_str) {
                    slot.id = id.to_string();
                }
                let function = call.get("function");
                if let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str) {
                    slot.name.push_str(name);
                }
                if let Some(args) = function.and_then(|f| f.get("arguments")) {
                    match args {
                        Value::String(piece) => slot.arguments.push_str(piece),
                        Value::Null => {}
                        other => slot.arguments.push_str(&other.to_string()),
                    }
                }
            }
        }
        let text = content_text(delta.get("content"))?;
        self.content.push_str(&text);
        Some(self.shown.push(&text)).filter(|shown| !shown.is_empty())
    }

    /// Text held back at the end of the stream that turned out to be printable.
    fn rest(&mut self) -> Option<String> {
        Some(self.shown.finish()).filter(|rest| !rest.is_empty())
    }

    fn finish(self) -> ChatReply {
        let tool_calls = self
            .calls
            .into_iter()
            .enumerate()
            .filter(|(_, call)| !call.name.is_empty())
            .map(|(n, call)| ToolCall {
                id: if call.id.is_empty() {
                    format!("call_{n}")
                } else {
                    call.id
                },
                kind: "function",
                function: FunctionCall {
                    name: call.name,
                    arguments: if call.arguments.trim().is_empty() {
                        "{}".into()
                    } else {
                        call.arguments
                    },
                },
            })
            .collect();
        let content = crate::reasoning::strip(&self.content);
        ChatReply {
            content: (!content.is_empty()).then_some(content),
            tool_calls,
            model: self.model,
            usage: self.usage,
        }
    }
}

/// Message content is a string, or (some servers) an array of `{"type":"text","text":…}`.
fn content_text(content: Option<&Value>) -> Option<String> {
    match content? {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let text: String = parts
                .iter()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect();
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    }
}

/// A tool call from a response; `arguments` may come as a JSON text or (some servers) as an
/// object. A call without a function name is dropped: there is nothing to run.
fn tool_call(call: &Value, position: usize) -> Option<ToolCall> {
    let function = call.get("function")?;
    let name = function.get("name")?.as_str()?.to_string();
    let arguments = match function.get("arguments") {
        Some(Value::String(text)) if !text.trim().is_empty() => text.clone(),
        Some(Value::Null) | None => "{}".to_string(),
        Some(Value::String(_)) => "{}".to_string(),
        Some(other) => other.to_string(),
    };
    let id = call
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map_or_else(|| format!("call_{position}"), str::to_string);
    Some(ToolCall {
        id,
        kind: "function",
        function: FunctionCall { name, arguments },
    })
}

/// The provider's own error message in a body: `{"error": {"message": …}}`, `{"error": "…"}`,
/// `{"message": …}` or `{"detail": …}`.
fn error_message(value: &Value) -> Option<String> {
    let error = value.get("error").filter(|e| !e.is_null())?;
    let text = error_text(value).unwrap_or_else(|| error.to_string());
    Some(format!(
        "the provider reported an error: {}",
        one_line(&text)
    ))
}

/// The text of an `error` member: `{"error": "…"}` or `{"error": {"message": "…"}}`.
fn error_text(value: &Value) -> Option<String> {
    match value.get("error")? {
        Value::String(text) => Some(text.clone()),
        error => error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

fn status_message(status: u16, reason: &str, body: &str) -> String {
    let detail = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|value| {
            if value.get("error").is_some_and(|e| !e.is_null()) {
                error_text(&value)
            } else {
                ["message", "detail"]
                    .iter()
                    .find_map(|key| value.get(key).and_then(Value::as_str).map(str::to_string))
            }
        })
        .or_else(|| {
            let trimmed = body.trim_start();
            // An HTML error page (a proxy's 502) says nothing a terminal line can carry.
            (!trimmed.is_empty() && !trimmed.starts_with('<')).then(|| snippet(trimmed))
        });
    match detail {
        Some(detail) => format!("HTTP {status} {reason}: {}", one_line(&detail)),
        None => format!("HTTP {status} {reason}").trim_end().to_string(),
    }
}

fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let seconds: f64 = response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds).min(MAX_RETRY_AFTER))
}

/// Exponential backoff with "equal jitter": half fixed, half random, so that many clients
/// retrying after one outage spread out.
fn backoff(retry: u32) -> Duration {
    let full = BASE_BACKOFF
        .saturating_mul(1 << retry.min(6))
        .min(MAX_RETRY_AFTER);
    let random = RandomState::new().hash_one(Instant::now()) % 1000;
    full / 2 + full / 2 * random as u32 / 1000
}

fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    snippet(&line)
}

fn snippet(text: &str) -> String {
    let mut cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_grows_and_stays_jittered_within_bounds() {
        for retry in 0..4 {
            let full = BASE_BACKOFF * (1 << retry);
            let wait = backoff(retry);
            assert!(wait >= full / 2 && wait <= full, "{retry}: {wait:?}");
        }
        assert!(backoff(30) <= MAX_RETRY_AFTER);
    }

    #[test]
    fn stream_assembles_tool_call_pieces_by_index() {
        let mut assembly = StreamAssembly::default();
        let chunks = [
            json!({"choices":[{"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"time","arguments":""}}]}}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}}]}}]}),
            json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":null}]}),
            json!({"choices":[{"delta":{"content":"hi"}}],"model":"m"}),
        ];
        let printed: Vec<String> = chunks.iter().filter_map(|c| assembly.add(c)).collect();
        assert_eq!(printed, vec!["hi"]);
        let reply = assembly.finish();
        assert_eq!(reply.tool_calls.len(), 1);
        assert_eq!(reply.tool_calls[0].id, "c1");
        assert_eq!(reply.tool_calls[0].function.arguments, "{\"a\":1}");
        assert_eq!(reply.content.as_deref(), Some("hi"));
        assert_eq!(reply.model.as_deref(), Some("m"));
    }

    #[test]
    fn status_message_prefers_provider_text_and_hides_html() {
        assert_eq!(
            status_message(401, "Unauthorized", r#"{"error":{"message":"bad key"}}"#),
            "HTTP 401 Unauthorized: bad key"
        );
        assert_eq!(
            status_message(502, "Bad Gateway", "<html><body>nginx</body></html>"),
            "HTTP 502 Bad Gateway"
        );
        assert_eq!(
            status_message(400, "Bad Request", r#"{"detail":"model not found"}"#),
            "HTTP 400 Bad Request: model not found"
        );
    }

    #[test]
    fn tool_call_arguments_may_be_objects_and_ids_may_be_missing() {
        let call = tool_call(&json!({"function":{"name":"t","arguments":{"x":1}}}), 3).unwrap();
        assert_eq!(call.id, "call_3");
        assert_eq!(call.function.arguments, r#"{"x":1}"#);
        assert!(tool_call(&json!({"function":{"arguments":"{}"}}), 0).is_none());
    }
}
