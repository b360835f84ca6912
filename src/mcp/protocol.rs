//! Pure MCP message logic for both eras: request bodies, telling a modern server from a
//! legacy one by its answer to the probe, pages of `tools/list`, answers to what a server asks
//! of us, a call's result as text, and the names tools get when offered to the model.

use serde_json::{Map, Value, json};

/// The modern, stateless revision: version, identity and capabilities in every `_meta`.
pub const MODERN_VERSION: &str = "2026-07-28";
/// The legacy revision asked for in `initialize`.
pub const LEGACY_VERSION: &str = "2025-11-25";
/// Legacy revisions a server may answer `initialize` with that we can speak.
pub const LEGACY_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// How many pages of `tools/list` are read before the server is taken to loop.
pub const MAX_PAGES: usize = 100;
/// How many `input_required` rounds a call may take.
pub const MAX_INPUT_ROUNDS: usize = 4;

/// JSON-RPC error codes the modern revision defines; any of them identifies a modern server.
const HEADER_MISMATCH: i64 = -32020;
const MISSING_CLIENT_CAPABILITY: i64 = -32021;
const UNSUPPORTED_VERSION: i64 = -32022;

/// Which generation of the protocol a server speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Era {
    /// Stateless, `_meta` in every request, at this version.
    Modern(String),
    /// After an `initialize` handshake that agreed on this version.
    Legacy(String),
}

impl Era {
    /// The name kept in the tool cache.
    pub fn label(&self) -> &'static str {
        match self {
            Era::Modern(_) => "modern",
            Era::Legacy(_) => "legacy",
        }
    }

    pub fn version(&self) -> &str {
        match self {
            Era::Modern(version) | Era::Legacy(version) => version,
        }
    }
}

/// A JSON-RPC error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn from_value(error: &Value) -> RpcError {
        RpcError {
            code: error["code"].as_i64().unwrap_or(0),
            message: error["message"].as_str().unwrap_or("").to_string(),
            data: error.get("data").cloned(),
        }
    }

    /// One of the errors only a modern server sends.
    pub fn is_modern(&self) -> bool {
        matches!(
            self.code,
            HEADER_MISMATCH | MISSING_CLIENT_CAPABILITY | UNSUPPORTED_VERSION
        )
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

/// The `_meta` every modern request carries.
pub fn modern_meta(version: &str) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientInfo": client_info(),
        "io.modelcontextprotocol/clientCapabilities": {},
    })
}

fn client_info() -> Value {
    json!({"name": "nanopy", "version": env!("CARGO_PKG_VERSION")})
}

/// `params` for a request to a server of `era`: modern requests carry `_meta`.
pub fn params(era: &Era, mut params: Map<String, Value>) -> Value {
    if let Era::Modern(version) = era {
        params.insert("_meta".into(), modern_meta(version));
    }
    Value::Object(params)
}

/// A JSON-RPC request line.
pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A JSON-RPC notification.
pub fn notification(method: &str) -> Value {
    json!({"jsonrpc": "2.0", "method": method})
}

/// The era probe: `server/discover` at our modern version.
pub fn discover_params() -> Value {
    json!({"_meta": modern_meta(MODERN_VERSION)})
}

/// The legacy handshake.
pub fn initialize_params(version: &str) -> Value {
    json!({"protocolVersion": version, "capabilities": {}, "clientInfo": client_info()})
}

/// What the probe's answer says about the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// Modern: use this version from now on.
    Modern(String),
    /// Modern, but it supports only legacy versions among ours: `initialize` with this one.
    LegacyVersion(String),
    /// A legacy server (any other error, no answer): `initialize`.
    Legacy,
    /// Modern, and nothing we could speak with it; the reason.
    Unusable(String),
}

/// Reads the answer to `server/discover`: a result, a modern error, or anything else
/// (`None`: no answer in time). The fallback is never keyed to one error code.
pub fn classify_probe(answer: Option<&Result<Value, RpcError>>) -> Probe {
    match answer {
        None => Probe::Legacy,
        // A result without `supportedVersions` is not a DiscoverResult: some legacy servers
        // answer any request before `initialize` with something.
        Some(Ok(result)) if result["supportedVersions"].is_array() => {
            choose_version(&result["supportedVersions"])
        }
        Some(Ok(_)) => Probe::Legacy,
        Some(Err(error)) if error.code == UNSUPPORTED_VERSION => {
            let supported = error
                .data
                .as_ref()
                .map_or(Value::Null, |d| d["supported"].clone());
            choose_version(&supported)
        }
        Some(Err(error)) if error.is_modern() => {
            Probe::Unusable(format!("the server refused the probe: {error}"))
        }
        Some(Err(_)) => Probe::Legacy,
    }
}

fn choose_version(supported: &Value) -> Probe {
    let versions: Vec<&str> = supported
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if versions.contains(&MODERN_VERSION) {
        return Probe::Modern(MODERN_VERSION.into());
    }
    if let Some(legacy) = LEGACY_VERSIONS.iter().find(|v| versions.contains(v)) {
        return Probe::LegacyVersion(legacy.to_string());
    }
    Probe::Unusable(format!(
        "the server supports only protocol versions {} (nanopy speaks {MODERN_VERSION} and {})",
        if versions.is_empty() {
            "(none listed)".to_string()
        } else {
            versions.join(", ")
        },
        LEGACY_VERSIONS.join(", ")
    ))
}

/// The version a server agreed to in its `initialize` result, if we speak it.
pub fn accepted_legacy_version(result: &Value) -> Result<String, String> {
    match result["protocolVersion"].as_str() {
        Some(version) if LEGACY_VERSIONS.contains(&version) => Ok(version.to_string()),
        Some(version) => Err(format!(
            "the server answered `initialize` with protocol version {version}, which nanopy \
             does not speak"
        )),
        None => Err("the server's `initialize` result has no protocolVersion".into()),
    }
}

/// A tool as the server lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerTool {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
}

/// Reads one page of `tools/list`: its tools and the next cursor.
pub fn tools_page(result: &Value) -> Result<(Vec<ServerTool>, Option<String>), String> {
    check_complete(result)?;
    let Some(list) = result["tools"].as_array() else {
        return Err("the `tools/list` result has no `tools` array".into());
    };
    let tools = list
        .iter()
        .filter_map(|tool| {
            let name = tool["name"].as_str()?.to_string();
            let mut input_schema = tool["inputSchema"].clone();
            if !input_schema.is_object() {
                input_schema = json!({"type": "object", "properties": {}});
            }
            Some(ServerTool {
                description: tool["description"]
                    .as_str()
                    .or(tool["title"].as_str())
                    .unwrap_or("")
                    .to_string(),
                name,
                input_schema,
            })
        })
        .collect();
    let cursor = result["nextCursor"].as_str().map(str::to_string);
    Ok((tools, cursor))
}

/// A result's `resultType`: absent means complete (older servers); only `complete` and
/// `input_required` exist in the revision we speak.
fn check_complete(result: &Value) -> Result<(), String> {
    match result.get("resultType").and_then(Value::as_str) {
        None | Some("complete") => Ok(()),
        Some(other) => Err(format!("unexpected resultType `{other}`")),
    }
}

/// What a call's result asks for next.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutcome {
    /// Done: text for the model, or the tool's error text (`isError`).
    Done(Result<String, String>),
    /// `input_required`: send the call again with these `inputResponses` and `requestState`.
    Again {
        input_responses: Value,
        request_state: Option<String>,
    },
}

/// Reads a `tools/call` result.
pub fn call_outcome(result: &Value) -> CallOutcome {
    match result.get("resultType").and_then(Value::as_str) {
        Some("input_required") => match input_responses(&result["inputRequests"]) {
            Ok(input_responses) => CallOutcome::Again {
                input_responses,
                request_state: result["requestState"].as_str().map(str::to_string),
            },
            Err(error) => CallOutcome::Done(Err(error)),
        },
        None | Some("complete") => {
            let text = result_text(result);
            if result["isError"].as_bool() == Some(true) {
                CallOutcome::Done(Err(text))
            } else {
                CallOutcome::Done(Ok(text))
            }
        }
        Some(other) => CallOutcome::Done(Err(format!(
            "the server answered with an unknown resultType `{other}`"
        ))),
    }
}

/// Our answers to a modern server's input requests: a user is not there to answer an
/// elicitation (declined), we expose no roots (an empty list), and we cannot sample.
fn input_responses(requests: &Value) -> Result<Value, String> {
    let mut responses = Map::new();
    for (key, request) in requests.as_object().into_iter().flatten() {
        let method = request["method"].as_str().unwrap_or("");
        let response = match method {
            "elicitation/create" => json!({"action": "decline"}),
            "roots/list" => json!({"roots": []}),
            other => return Err(unsupported_request(other)),
        };
        responses.insert(key.clone(), response);
    }
    Ok(Value::Object(responses))
}

fn unsupported_request(method: &str) -> String {
    format!("the server asked nanopy for `{method}`, which nanopy does not offer")
}

/// The answer to a request a (legacy) server sends us: `ping` gets a result, anything else a
/// JSON-RPC error saying we do not offer it. Never silence: the server may be waiting.
pub fn answer_server_request(id: &Value, method: &str) -> Value {
    match method {
        "ping" => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
        other => json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32601, "message": unsupported_request(other)},
        }),
    }
}

/// A call's content as text: text parts as they are, other parts described in one line.
/// With no content, the structured content as JSON.
pub fn result_text(result: &Value) -> String {
    let parts: Vec<String> = result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .map(describe_content)
        .collect();
    if parts.is_empty() {
        return match result.get("structuredContent") {
            Some(structured) => structured.to_string(),
            None => String::new(),
        };
    }
    parts.join("\n")
}

fn describe_content(part: &Value) -> String {
    let mime = part["mimeType"].as_str().unwrap_or("unknown type");
    let size = |field: &str| part[field].as_str().map_or(0, |data| data.len() * 3 / 4);
    match part["type"].as_str().unwrap_or("") {
        "text" => part["text"].as_str().unwrap_or("").to_string(),
        "image" => format!("[image, {mime}, about {} bytes]", size("data")),
        "audio" => format!("[audio, {mime}, about {} bytes]", size("data")),
        "resource_link" => {
            let uri = part["uri"].as_str().unwrap_or("?");
            match part["name"].as_str() {
                Some(name) if !name.is_empty() => format!("[resource link: {uri} {name}]"),
                _ => format!("[resource link: {uri}]"),
            }
        }
        "resource" => {
            let resource = &part["resource"];
            match resource["text"].as_str() {
                Some(text) => format!(
                    "[resource {}]\n{text}",
                    resource["uri"].as_str().unwrap_or("?")
                ),
                None => format!(
                    "[resource {}, {}, binary]",
                    resource["uri"].as_str().unwrap_or("?"),
                    resource["mimeType"].as_str().unwrap_or("unknown type")
                ),
            }
        }
        other => format!("[content of type `{other}`]"),
    }
}

/// The longest name OpenAI-style function calling accepts.
pub const MAX_NAME_CHARS: usize = 64;

/// The names the model sees for `(server, tool)` pairs, in order: `server__tool`, characters
/// outside `[A-Za-z0-9_-]` replaced by `_`, at most 64 characters, and unique (a clash gets
/// `_2`, `_3`, … within the limit). `taken` holds names already in use (built-in tools).
pub fn model_names(pairs: &[(&str, &str)], taken: &[&str]) -> Vec<String> {
    let mut used: Vec<String> = taken.iter().map(|name| name.to_string()).collect();
    let mut names = Vec::new();
    for (server, tool) in pairs {
        let base: String = format!("{server}__{tool}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(MAX_NAME_CHARS)
            .collect();
        let mut name = base.clone();
        let mut n = 2;
        while used.contains(&name) {
            let suffix = format!("_{n}");
            let keep = MAX_NAME_CHARS - suffix.len();
            name = format!("{}{suffix}", &base[..base.len().min(keep)]);
            n += 1;
        }
        used.push(name.clone());
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: i64, data: Value) -> Result<Value, RpcError> {
        Err(RpcError {
            code,
            message: "m".into(),
            data: Some(data),
        })
    }

    #[test]
    fn the_probe_tells_the_eras_apart_as_the_versioning_page_says() {
        let discover = Ok(json!({"supportedVersions": ["2026-07-28"], "capabilities": {}}));
        assert_eq!(
            classify_probe(Some(&discover)),
            Probe::Modern(MODERN_VERSION.into())
        );
        // Any non-modern error, whatever its code, and silence mean legacy.
        for code in [-32601, -32602, -32600, -32000, 1] {
            assert_eq!(
                classify_probe(Some(&error(code, Value::Null))),
                Probe::Legacy
            );
        }
        assert_eq!(classify_probe(None), Probe::Legacy);
        assert_eq!(classify_probe(Some(&Ok(json!({})))), Probe::Legacy);
        // An unsupported-version error is modern: retry with a version from its list.
        let newer_only = error(-32022, json!({"supported": ["2027-01-01", "2025-11-25"]}));
        assert_eq!(
            classify_probe(Some(&newer_only)),
            Probe::LegacyVersion("2025-11-25".into())
        );
        let with_ours = error(-32022, json!({"supported": ["2026-07-28"]}));
        assert_eq!(
            classify_probe(Some(&with_ours)),
            Probe::Modern(MODERN_VERSION.into())
        );
        let none_of_ours = error(-32022, json!({"supported": ["2027-01-01"]}));
        assert!(
            matches!(classify_probe(Some(&none_of_ours)), Probe::Unusable(m) if m.contains("2027-01-01"))
        );
        assert!(matches!(
            classify_probe(Some(&error(-32021, json!({})))),
            Probe::Unusable(_)
        ));
    }

    #[test]
    fn modern_requests_carry_meta_and_legacy_ones_do_not() {
        let mut map = Map::new();
        map.insert("name".into(), json!("t"));
        let modern = params(&Era::Modern(MODERN_VERSION.into()), map.clone());
        assert_eq!(
            modern["_meta"]["io.modelcontextprotocol/protocolVersion"],
            MODERN_VERSION
        );
        assert_eq!(
            modern["_meta"]["io.modelcontextprotocol/clientInfo"]["name"],
            "nanopy"
        );
        let legacy = params(&Era::Legacy(LEGACY_VERSION.into()), map);
        assert_eq!(legacy, json!({"name": "t"}));
    }

    #[test]
    fn an_initialize_answer_must_name_a_version_we_speak() {
        assert_eq!(
            accepted_legacy_version(&json!({"protocolVersion": "2025-06-18"})),
            Ok("2025-06-18".into())
        );
        assert!(accepted_legacy_version(&json!({"protocolVersion": "1999-01-01"})).is_err());
        assert!(accepted_legacy_version(&json!({})).is_err());
    }

    #[test]
    fn tool_pages_give_tools_and_the_next_cursor() {
        let page = json!({"tools": [
            {"name": "a", "description": "A", "inputSchema": {"type": "object"}},
            {"name": "b"},
            {"description": "nameless, skipped"}
        ], "nextCursor": "c2"});
        let (tools, cursor) = tools_page(&page).unwrap();
        assert_eq!(tools.len(), 2);
        assert_eq!(tools[1].input_schema["type"], "object");
        assert_eq!(cursor.as_deref(), Some("c2"));
        assert!(tools_page(&json!({"resultType": "weird", "tools": []})).is_err());
        assert!(tools_page(&json!({})).is_err());
    }

    #[test]
    fn results_become_text_with_other_content_described() {
        let result = json!({"content": [
            {"type": "text", "text": "hello"},
            {"type": "image", "mimeType": "image/png", "data": "AAAA"},
            {"type": "resource_link", "uri": "file:///a", "name": "a"},
            {"type": "resource", "resource": {"uri": "file:///b", "text": "inside"}},
        ]});
        assert_eq!(
            call_outcome(&result),
            CallOutcome::Done(Ok(
                "hello\n[image, image/png, about 3 bytes]\n[resource link: file:///a a]\n\
                 [resource file:///b]\ninside"
                    .into()
            ))
        );
        let failed = json!({"isError": true, "content": [{"type": "text", "text": "bad"}]});
        assert_eq!(call_outcome(&failed), CallOutcome::Done(Err("bad".into())));
        let structured = json!({"structuredContent": {"t": 1}});
        assert_eq!(
            call_outcome(&structured),
            CallOutcome::Done(Ok("{\"t\":1}".into()))
        );
    }

    #[test]
    fn input_required_is_answered_or_refused_never_ignored() {
        let asks = json!({"resultType": "input_required", "requestState": "s1", "inputRequests": {
            "e": {"method": "elicitation/create", "params": {}},
            "r": {"method": "roots/list"}
        }});
        assert_eq!(
            call_outcome(&asks),
            CallOutcome::Again {
                input_responses: json!({"e": {"action": "decline"}, "r": {"roots": []}}),
                request_state: Some("s1".into()),
            }
        );
        let sampling = json!({"resultType": "input_required", "inputRequests": {
            "s": {"method": "sampling/createMessage"}}});
        assert!(
            matches!(call_outcome(&sampling), CallOutcome::Done(Err(m)) if m.contains("sampling"))
        );
    }

    #[test]
    fn server_requests_get_a_result_for_ping_and_an_error_otherwise() {
        assert_eq!(
            answer_server_request(&json!(7), "ping")["result"],
            json!({})
        );
        let refused = answer_server_request(&json!("x"), "sampling/createMessage");
        assert_eq!(refused["error"]["code"], -32601);
        assert_eq!(refused["id"], "x");
    }

    #[test]
    fn model_names_are_sanitised_capped_and_unique() {
        let long = "t".repeat(80);
        let names = model_names(
            &[
                ("fs", "read file"),
                ("fs", "read_file"),
                ("my.srv", &long),
                ("my.srv", &long),
            ],
            &["time"],
        );
        assert_eq!(names[0], "fs__read_file");
        assert_eq!(names[1], "fs__read_file_2");
        assert_eq!(names[2].len(), 64);
        assert!(names[2].starts_with("my_srv__ttt"));
        assert_eq!(names[3].len(), 64);
        assert!(names[3].ends_with("_2"));
        assert_ne!(names[2], names[3]);
        assert_eq!(model_names(&[("a", "b")], &["a__b"]), vec!["a__b_2"]);
    }
}
