//! The Streamable HTTP transport: each message a POST (blocking ureq, the provider's TLS and
//! proxy settings, no redirects), answered as JSON or as an SSE stream. Modern requests carry
//! `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and the `Mcp-Param-*` headers a tool's
//! schema asks for; a legacy session carries its `Mcp-Session-Id` and is ended with DELETE.
//! A `4xx` answer is a JSON-RPC error (its body's, if it has one) so that the probe can tell
//! a modern server's refusal from a legacy server's.

use super::protocol::{self, Era, RpcError, ServerTool};
use super::transport::{Answer, Fault, Transport};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

/// The largest answer accepted, JSON or a whole SSE stream.
const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// How many times a stream that ended early is resumed.
const MAX_RESUMES: usize = 3;

/// Where an SSE stream can be resumed from.
struct Resume {
    last_event: Option<String>,
    retry: Duration,
}

impl Default for Resume {
    fn default() -> Resume {
        // No `retry:` field: a second, as browsers' EventSource does (about 3 s there).
        Resume {
            last_event: None,
            retry: Duration::from_secs(1),
        }
    }
}

/// One Streamable HTTP endpoint.
pub struct HttpServer {
    name: String,
    url: String,
    headers: BTreeMap<String, String>,
    agent: ureq::Agent,
    era: Option<Era>,
    session: Option<String>,
    next_id: u64,
    /// Per tool: the `Mcp-Param-*` headers its schema asks for, and where each value is.
    param_headers: BTreeMap<String, Vec<(String, Vec<String>)>>,
    list_changed: bool,
}

impl HttpServer {
    pub fn new(name: &str, url: &str, headers: &BTreeMap<String, String>) -> HttpServer {
        HttpServer {
            name: name.to_string(),
            url: url.to_string(),
            headers: headers.clone(),
            agent: crate::http::no_redirect_agent(),
            era: None,
            session: None,
            next_id: 1,
            param_headers: BTreeMap::new(),
            list_changed: false,
        }
    }

    /// The headers of one POST of `method` with `params`.
    fn request_headers(&self, method: &str, params: &Value) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        headers.push(("Content-Type".into(), "application/json".into()));
        headers.push((
            "Accept".into(),
            "application/json, text/event-stream".into(),
        ));
        let modern = match &self.era {
            Some(Era::Modern(version)) => Some(version.as_str()),
            // Before the era is known only the probe (modern) and `initialize` are sent.
            None if method != "initialize" => Some(protocol::MODERN_VERSION),
            _ => None,
        };
        match (modern, &self.era) {
            (Some(version), _) => {
                headers.push(("MCP-Protocol-Version".into(), version.into()));
                headers.push(("Mcp-Method".into(), method.into()));
                if let Some(name) = params["name"].as_str() {
                    headers.push(("Mcp-Name".into(), header_value(name)));
                    for (header, path) in self.param_headers.get(name).into_iter().flatten() {
                        let value = path.iter().try_fold(&params["arguments"], |v, k| v.get(k));
                        if let Some(text) = value.and_then(primitive_text) {
                            headers.push((format!("Mcp-Param-{header}"), header_value(&text)));
                        }
                    }
                }
            }
            (None, Some(Era::Legacy(version))) => {
                headers.push(("MCP-Protocol-Version".into(), version.clone()));
                if let Some(session) = &self.session {
                    headers.push(("Mcp-Session-Id".into(), session.clone()));
                }
            }
            (None, _) => {}
        }
        headers
    }

    fn post(
        &mut self,
        body: &Value,
        headers: &[(String, String)],
        timeout: Duration,
    ) -> Result<ureq::http::Response<ureq::Body>, Fault> {
        let mut request = self.agent.post(&self.url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request
            .config()
            .timeout_global(Some(timeout.max(Duration::from_millis(1))))
            .build()
            .send(body.to_string().as_bytes())
            .map_err(|error| {
                let url = crate::http::redact_userinfo(&self.url);
                exchange_fault(error, &format!("cannot reach `{url}`"))
            })
    }

    /// Reads the answer to request `id` from a JSON body or an SSE stream, answering
    /// requests the server sends on the stream (legacy) with POSTs of their own.
    fn read_answer(
        &mut self,
        response: ureq::http::Response<ureq::Body>,
        id: u64,
        deadline: Instant,
    ) -> Result<Answer, Fault> {
        let status = response.status().as_u16();
        if let Some(session) = response
            .headers()
            .get("mcp-session-id")
            .and_then(|value| value.to_str().ok())
        {
            self.session = Some(session.to_string());
        }
        let media = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut body = response
            .into_body()
            .into_reader()
            .take(MAX_RESPONSE_BYTES + 1);
        if media.starts_with("text/event-stream") && status < 300 {
            return self.read_stream(&mut body, id, deadline);
        }
        let mut bytes = Vec::new();
        body.read_to_end(&mut bytes)
            .map_err(|error| read_fault(&error))?;
        if bytes.len() as u64 > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        let message = serde_json::from_slice::<Value>(&bytes).ok();
        if (400..500).contains(&status) {
            // A modern server's refusal has a JSON-RPC error body; anything else is just an
            // error answer, which the probe takes as "legacy".
            let error = message
                .as_ref()
                .and_then(|m| m.get("error"))
                .map(RpcError::from_value)
                .unwrap_or(RpcError {
                    code: 0,
                    message: format!("HTTP {status}"),
                    data: None,
                });
            return Ok(Err(error));
        }
        if status >= 300 {
            return Err(Fault::Broken(format!("the server answered HTTP {status}")));
        }
        match message {
            Some(message) => self.answer_of(&message, id).unwrap_or_else(|| {
                Err(Fault::Broken(format!(
                    "the server answered request {id} with another id"
                )))
            }),
            None => Err(Fault::Broken("the server's answer is not JSON-RPC".into())),
        }
    }

    /// Reads an SSE stream until the answer to `id`. A legacy stream that ends first, after
    /// events with ids, is resumed with a GET carrying `Last-Event-ID`, after the `retry`
    /// delay the server asked for (2025-11-25 resumability); a few times at most.
    fn read_stream(
        &mut self,
        body: &mut dyn Read,
        id: u64,
        deadline: Instant,
    ) -> Result<Answer, Fault> {
        let mut resume = Resume::default();
        if let Some(answer) = self.read_events(body, id, deadline, &mut resume)? {
            return Ok(answer);
        }
        // Streams are resumable in the legacy revisions only.
        let resumable = matches!(self.era, Some(Era::Legacy(_)));
        for _ in 0..MAX_RESUMES {
            let Some(last_event) = resume.last_event.clone().filter(|_| resumable) else {
                break;
            };
            let wait = resume.retry.min(Duration::from_secs(10));
            if Instant::now() + wait >= deadline {
                return Err(Fault::Timeout);
            }
            std::thread::sleep(wait);
            let mut request = self
                .agent
                .get(&self.url)
                .header("Accept", "text/event-stream")
                .header("Last-Event-ID", &last_event);
            for (name, value) in self.request_headers("", &Value::Null) {
                if name != "Accept" && name != "Content-Type" {
                    request = request.header(&name, &value);
                }
            }
            let response = request
                .config()
                .timeout_global(Some(deadline.saturating_duration_since(Instant::now())))
                .build()
                .call()
                .map_err(|error| exchange_fault(error, "resuming the stream failed"))?;
            if !response.status().is_success() {
                return Err(Fault::Broken(format!(
                    "resuming the stream failed: HTTP {}",
                    response.status().as_u16()
                )));
            }
            let mut body = response
                .into_body()
                .into_reader()
                .take(MAX_RESPONSE_BYTES + 1);
            if let Some(answer) = self.read_events(&mut body, id, deadline, &mut resume)? {
                return Ok(answer);
            }
        }
        Err(Fault::Broken(format!(
            "the server's stream ended without an answer to request {id}"
        )))
    }

    /// Reads SSE events until the answer to `id` (`Some`) or the end of the stream (`None`),
    /// noting the last event id and retry delay in `resume`.
    fn read_events(
        &mut self,
        body: &mut dyn Read,
        id: u64,
        deadline: Instant,
        resume: &mut Resume,
    ) -> Result<Option<Answer>, Fault> {
        let mut data = String::new();
        let mut read = 0u64;
        for line in BufReader::new(body).lines() {
            let line = line.map_err(|error| read_fault(&error))?;
            read += line.len() as u64 + 1;
            if read > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            if Instant::now() > deadline {
                return Err(Fault::Timeout);
            }
            let field = |name: &str| {
                line.strip_prefix(name)
                    .map(|rest| rest.strip_prefix(' ').unwrap_or(rest).to_string())
            };
            if let Some(rest) = field("data:") {
                data.push_str(&rest);
                data.push('\n');
                continue;
            }
            if let Some(event_id) = field("id:") {
                resume.last_event = Some(event_id);
                continue;
            }
            if let Some(ms) = field("retry:").and_then(|ms| ms.trim().parse().ok()) {
                resume.retry = Duration::from_millis(ms);
                continue;
            }
            if !line.is_empty() {
                continue;
            }
            let event = std::mem::take(&mut data);
            if event.trim().is_empty() {
                // A priming event: an id to resume from, no message.
                continue;
            }
            let Ok(message) = serde_json::from_str::<Value>(event.trim()) else {
                return Err(Fault::Broken(
                    "the server sent an SSE event that is not JSON-RPC".into(),
                ));
            };
            if let Some(answer) = self.answer_of(&message, id) {
                return answer.map(Some);
            }
        }
        Ok(None)
    }

    /// The answer to `id` if `message` is it; requests from the server are answered and
    /// notifications noted (then `None`).
    fn answer_of(&mut self, message: &Value, id: u64) -> Option<Result<Answer, Fault>> {
        if let Some(method) = message["method"].as_str() {
            match message.get("id") {
                Some(request_id) => {
                    let reply = protocol::answer_server_request(request_id, method);
                    let headers = self.request_headers("", &Value::Null);
                    let _ = self.post(&reply, &headers, Duration::from_secs(10));
                }
                None if method == "notifications/tools/list_changed" => self.list_changed = true,
                None => {}
            }
            return None;
        }
        if message["id"].as_u64() != Some(id) {
            return Some(Err(Fault::Broken(format!(
                "the server answered request {id} with id {}",
                message.get("id").map_or("(none)".into(), Value::to_string)
            ))));
        }
        Some(Ok(match message.get("error") {
            Some(error) => Err(RpcError::from_value(error)),
            None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
        }))
    }
}

impl Transport for HttpServer {
    fn request(&mut self, method: &str, params: Value, timeout: Duration) -> Result<Answer, Fault> {
        let id = self.next_id;
        self.next_id += 1;
        let deadline = Instant::now() + timeout;
        let headers = self.request_headers(method, &params);
        let response = self.post(&protocol::request(id, method, params), &headers, timeout)?;
        self.read_answer(response, id, deadline)
    }

    fn notify(&mut self, method: &str) -> Result<(), Fault> {
        let headers = self.request_headers(method, &Value::Null);
        let response = self.post(
            &protocol::notification(method),
            &headers,
            Duration::from_secs(10),
        )?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            status => Err(Fault::Broken(format!(
                "the server refused `{method}`: HTTP {status}"
            ))),
        }
    }

    fn take_list_changed(&mut self) -> bool {
        std::mem::take(&mut self.list_changed)
    }

    fn set_era(&mut self, era: &Era) {
        self.era = Some(era.clone());
    }

    fn accept_tools(&mut self, tools: Vec<ServerTool>) -> Vec<ServerTool> {
        if !matches!(self.era, Some(Era::Modern(_))) {
            return tools;
        }
        let mut accepted = Vec::new();
        for tool in tools {
            match param_headers(&tool.input_schema) {
                Ok(headers) => {
                    self.param_headers.insert(tool.name.clone(), headers);
                    accepted.push(tool);
                }
                Err(why) => crate::notice::warning(&format!(
                    "MCP server `{}`: tool `{}` is left out: {why}",
                    self.name, tool.name
                )),
            }
        }
        accepted
    }

    fn shutdown(&mut self) {
        if let Some(session) = self.session.take() {
            // Ending a legacy session is a courtesy: a server that does not answer quickly
            // forgets it by itself.
            let mut request = self
                .agent
                .delete(&self.url)
                .header("Mcp-Session-Id", &session);
            for (name, value) in &self.headers {
                request = request.header(name, value);
            }
            let _ = request
                .config()
                .timeout_global(Some(Duration::from_secs(2)))
                .build()
                .call();
        }
    }
}

/// A failed HTTP exchange: a timeout, or what went wrong, after `context`.
fn exchange_fault(error: ureq::Error, context: &str) -> Fault {
    match error {
        ureq::Error::Timeout(_) => Fault::Timeout,
        other => Fault::Broken(format!(
            "{context}: {}",
            crate::http::describe_transport(&other)
        )),
    }
}

fn read_fault(error: &std::io::Error) -> Fault {
    if error.kind() == std::io::ErrorKind::TimedOut {
        Fault::Timeout
    } else {
        Fault::Broken(format!("reading the server's answer failed: {error}"))
    }
}

fn too_large() -> Fault {
    Fault::Broken(format!(
        "the server's answer is over {} MiB",
        MAX_RESPONSE_BYTES / (1024 * 1024)
    ))
}

/// The `x-mcp-header` annotations of a tool's input schema: header name and property path.
/// An annotation that breaks the rules (SPEC of the transport) rejects the whole tool.
fn param_headers(schema: &Value) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut found = Vec::new();
    collect_headers(schema, &mut Vec::new(), &mut found)?;
    let mut seen: Vec<String> = Vec::new();
    for (name, _) in &found {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(format!("x-mcp-header `{name}` is used twice"));
        }
        seen.push(lower);
    }
    if let Some(bad) = find_misplaced(schema, true) {
        return Err(bad);
    }
    Ok(found)
}

fn collect_headers(
    schema: &Value,
    path: &mut Vec<String>,
    found: &mut Vec<(String, Vec<String>)>,
) -> Result<(), String> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (key, property) in properties {
        path.push(key.clone());
        if let Some(header) = property.get("x-mcp-header") {
            let name = header.as_str().unwrap_or("");
            let token = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                return Err(format!("x-mcp-header `{name}` is not a valid header name"));
            }
            let kind = property["type"].as_str().unwrap_or("");
            if !["string", "integer", "boolean"].contains(&kind) {
                return Err(format!(
                    "x-mcp-header `{name}` is on a property of type `{kind}`, not string, integer or boolean"
                ));
            }
            found.push((name.to_string(), path.clone()));
        }
        collect_headers(property, path, found)?;
        path.pop();
    }
    Ok(())
}

/// An `x-mcp-header` anywhere but on a chain of `properties` (under `items`, `anyOf`, …).
fn find_misplaced(schema: &Value, reachable: bool) -> Option<String> {
    let object = schema.as_object()?;
    if !reachable && object.contains_key("x-mcp-header") {
        return Some("x-mcp-header is not reachable through `properties` alone".into());
    }
    for (key, value) in object {
        if key == "properties" {
            for property in value.as_object().into_iter().flat_map(|m| m.values()) {
                if let Some(bad) = find_misplaced(property, reachable) {
                    return Some(bad);
                }
            }
        } else if value.is_object() || value.is_array() {
            let children: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for child in children {
                if let Some(bad) = find_misplaced(child, false) {
                    return Some(bad);
                }
            }
        }
    }
    None
}

/// A primitive argument as header text; `None` for null, numbers with fractions, objects.
fn primitive_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) if number.is_i64() || number.is_u64() => Some(number.to_string()),
        _ => None,
    }
}

/// A header value as is when it is plain visible ASCII, else (or when it looks like the
/// sentinel itself) `=?base64?…?=`.
fn header_value(text: &str) -> String {
    let sentinel = text.starts_with("=?base64?") && text.ends_with("?=");
    let plain = !text.is_empty()
        && text.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !sentinel;
    if plain {
        text.to_string()
    } else {
        format!("=?base64?{}?=", base64(text.as_bytes()))
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_values_follow_the_encoding_examples_of_the_spec() {
        assert_eq!(header_value("us-west1"), "us-west1");
        assert_eq!(
            header_value("Hello, 世界"),
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert_eq!(header_value(" padded "), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(header_value("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
        assert_eq!(
            header_value("=?base64?literal?="),
            "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
        );
    }

    #[test]
    fn param_headers_are_found_on_property_chains_and_bad_ones_reject_the_tool() {
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "opts": {"type": "object", "properties": {"n": {"type": "integer", "x-mcp-header": "N"}}},
            "query": {"type": "string"}
        }});
        let headers = param_headers(&schema).unwrap();
        assert!(headers.contains(&("Region".into(), vec!["region".into()])));
        assert!(headers.contains(&("N".into(), vec!["opts".into(), "n".into()])));
        for bad in [
            json!({"properties": {"a": {"type": "number", "x-mcp-header": "A"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "bad name"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "A"},
                                  "b": {"type": "string", "x-mcp-header": "a"}}}),
            json!({"properties": {"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}}}),
            json!({"anyOf": [{"properties": {"a": {"type": "string", "x-mcp-header": "A"}}}]}),
        ] {
            assert!(param_headers(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn modern_requests_mirror_method_name_and_params_into_headers() {
        let mut server = HttpServer::new("h", "http://127.0.0.1:1/mcp", &BTreeMap::new());
        server.set_era(&Era::Modern(protocol::MODERN_VERSION.into()));
        let tool = ServerTool {
            name: "q".into(),
            description: String::new(),
            input_schema: json!({"properties": {"region": {"type": "string", "x-mcp-header": "Region"}}}),
        };
        assert_eq!(server.accept_tools(vec![tool]).len(), 1);
        let headers = server.request_headers(
            "tools/call",
            &json!({"name": "q", "arguments": {"region": "eu 1 "}}),
        );
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("MCP-Protocol-Version"), Some(protocol::MODERN_VERSION));
        assert_eq!(get("Mcp-Method"), Some("tools/call"));
        assert_eq!(get("Mcp-Name"), Some("q"));
        assert_eq!(get("Mcp-Param-Region"), Some("=?base64?ZXUgMSA=?="));
        // No value, no header.
        let headers = server.request_headers("tools/call", &json!({"name": "q", "arguments": {}}));
        assert!(!headers.iter().any(|(n, _)| n == "Mcp-Param-Region"));
    }
}
