//! The chat wire types (messages, tool calls, a request and its reply) and the [`Chat`]
//! trait the turn talks to. Storage (the log, history trimming) shares these types, and none
//! of them knows HTTP: the client that sends them is [`crate::provider`].

use crate::error::Result;
use serde::Serialize;
use serde_json::Value;
use std::result::Result as StdResult;

/// Who a message is from, as the API names it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The configured prompt and the learned rules.
    System,
    /// What the user (or a job) asks.
    User,
    /// The model's answers and tool calls.
    Assistant,
    /// The result of a tool call.
    Tool,
}

/// One message of the conversation, as the API takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    /// Always a string, never null: several self-hosted servers reject a null content even on
    /// an assistant message that carries tool calls, and OpenAI accepts an empty string.
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub tool_call_id: Option<String>,
    /// Images that go with a user's message (SPEC §15): sent as `image_url` parts.
    pub images: Vec<Image>,
}

/// An image that goes with a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub media_type: String,
    /// The bytes, base64.
    pub base64: String,
    /// Where it came from (a path or URL) and its size, for the log, which keeps no bytes.
    pub source: String,
    pub bytes: usize,
}

impl Serialize for Message {
    /// `content` is the text, or with images the parts `[{text}, {image_url}…]`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> StdResult<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("role", &self.role)?;
        if self.images.is_empty() {
            map.serialize_entry("content", &self.content)?;
        } else {
            let mut parts = vec![serde_json::json!({"type": "text", "text": self.content})];
            parts.extend(self.images.iter().map(|image| {
                serde_json::json!({"type": "image_url", "image_url": {
                    "url": format!("data:{};base64,{}", image.media_type, image.base64)}})
            }));
            map.serialize_entry("content", &parts)?;
        }
        if !self.tool_calls.is_empty() {
            map.serialize_entry("tool_calls", &self.tool_calls)?;
        }
        if let Some(id) = &self.tool_call_id {
            map.serialize_entry("tool_call_id", id)?;
        }
        map.end()
    }
}

impl Message {
    /// A message with a role and text.
    pub fn new(role: Role, content: impl Into<String>) -> Message {
        Message {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            images: Vec::new(),
        }
    }

    /// The result of a tool call, answering the call with `id`.
    pub fn tool_result(id: &str, content: impl Into<String>) -> Message {
        Message {
            tool_call_id: Some(id.to_string()),
            ..Message::new(Role::Tool, content)
        }
    }
}

/// A function call the model asked for.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall,
}

/// The function part of a tool call; `arguments` is a JSON text, as the API sends it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FunctionCall {
    pub name: String,
    pub arguments: String,
}

/// One request: the model, the messages, and the tools on offer.
#[derive(Debug, Serialize)]
pub struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: &'a [Message],
    #[serde(skip_serializing_if = "<[Value]>::is_empty")]
    pub tools: &'a [Value],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    /// With a stream, asks for the usage chunk before `[DONE]`, so streamed turns count
    /// towards `usage` and the daily budget too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// `--schema`: a `json_schema` response format (SPEC §15).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<&'a Value>,
}

/// `stream_options` of a streamed request.
#[derive(Debug, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

impl<'a> ChatRequest<'a> {
    /// A request; a streamed one asks for usage.
    pub fn new(
        model: &'a str,
        messages: &'a [Message],
        tools: &'a [Value],
        stream: bool,
    ) -> ChatRequest<'a> {
        ChatRequest {
            model,
            messages,
            tools,
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
            response_format: None,
        }
    }
}

/// What came back: text, tool calls or both, plus what the server says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatReply {
    pub content: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub model: Option<String>,
    pub usage: Option<Value>,
}

/// A model that answers chat requests: what the turn's tool-call loop talks to. The
/// OpenAI-compatible `Provider` (provider.rs) is one; a fallback chain of providers, or a scripted fake in
/// tests, is another.
pub trait Chat {
    /// One answer to `request`. With `request.stream`, `on_text` gets each piece of text as
    /// it arrives; otherwise it is not called.
    fn send(&self, request: &ChatRequest, on_text: &mut dyn FnMut(&str)) -> Result<ChatReply>;
}
