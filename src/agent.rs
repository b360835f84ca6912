//! One agent turn: feedback learning, the local `tool:` shortcut, and the tool-call loop.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::feedback;
use crate::memory::Memory;
use crate::provider::{ChatReply, ChatRequest, Message, Provider};
use crate::rules;
use crate::tools::{Caller, Registry};
use serde_json::{Map, Value};

/// The most rounds of tool calls one turn runs before asking for a final answer.
pub const MAX_TOOL_ROUNDS: usize = 8;

/// How a turn should run.
#[derive(Debug, Clone)]
pub struct TurnOptions {
    /// Overrides the configured model.
    pub model: Option<String>,
    /// Ask for a server-sent-event stream and hand text to the caller as it arrives.
    pub stream: bool,
    /// Offer no tools to the model.
    pub no_tools: bool,
    /// Who runs the turn (a scheduled job gets no scheduling tools).
    pub caller: Caller,
}

/// One tool call made during the turn, for `--json` and the job history.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRun {
    pub name: String,
    pub arguments: Value,
    pub result: String,
}

/// What a turn produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub reply: String,
    pub tool_calls: Vec<ToolRun>,
    pub rule_learned: Option<String>,
    pub model: String,
    pub usage: Option<Value>,
}

/// Runs one turn for `message`. `on_text` receives reply text as it streams in (only with
/// `options.stream`).
pub fn run(
    config: &Config,
    message: &str,
    options: &TurnOptions,
    on_text: &mut dyn FnMut(&str),
) -> Result<Turn> {
    let registry = Registry::new(config, options.caller);
    let model = options
        .model
        .clone()
        .unwrap_or_else(|| config.provider.model.clone());
    if let Some(call) = parse_local_call(message) {
        let (name, arguments) = call?;
        let result = run_local_call(&registry, &name, &arguments)?;
        return Ok(Turn {
            reply: format!("[tool:{name}] {}", result.trim_end()),
            tool_calls: vec![ToolRun {
                name,
                arguments,
                result,
            }],
            rule_learned: None,
            model,
            usage: None,
        });
    }

    let memory = Memory::open(&config.memory_path);
    let now = unix_now();
    // Rules come from a person: a scheduled job's stored message is not new feedback.
    let rule_learned = match options.caller {
        Caller::User => feedback::detect(message),
        Caller::Job => None,
    };
    // Learning returns the rules in force, so the file is read once either way.
    let rules_in_force = match &rule_learned {
        Some(rule) => rules::learn(&memory, rule, now)?,
        None => rules::list(&memory, now)?,
    };
    let system = rules::system_message(&config.system_prompt, &rules_in_force);
    let mut messages = vec![
        Message::new("system", system),
        Message::new("user", message),
    ];

    let provider = Provider::new(&config.provider)?;
    let tools = if options.no_tools {
        Vec::new()
    } else {
        registry.schemas()
    };
    let mut usage = None;
    let mut tool_calls = Vec::new();
    let mut served_model = None;
    for round in 0..=MAX_TOOL_ROUNDS {
        // After the last allowed round the model must answer in text: no tools on offer.
        let offered: &[Value] = if round == MAX_TOOL_ROUNDS {
            &[]
        } else {
            &tools
        };
        let request = ChatRequest {
            model: &model,
            messages: &messages,
            tools: offered,
            stream: options.stream,
        };
        let reply: ChatReply = if options.stream {
            provider.stream(&request, on_text)?
        } else {
            provider.complete(&request)?
        };
        add_usage(&mut usage, reply.usage.as_ref());
        served_model = reply.model.clone().or(served_model);
        if reply.tool_calls.is_empty() || round == MAX_TOOL_ROUNDS {
            let reply_text = reply.content.unwrap_or_else(|| {
                format!("(no answer after {MAX_TOOL_ROUNDS} rounds of tool calls)")
            });
            return Ok(Turn {
                reply: reply_text,
                tool_calls,
                rule_learned,
                model: served_model.unwrap_or(model),
                usage,
            });
        }
        messages.push(Message {
            tool_calls: reply.tool_calls.clone(),
            ..Message::new("assistant", reply.content.unwrap_or_default())
        });
        for call in reply.tool_calls {
            // Some servers return tool calls even when none were offered; with --no-tools
            // nothing runs.
            let result = if options.no_tools {
                "error: tools are disabled for this turn; answer without them".to_string()
            } else {
                registry.call_for_model(&call.function.name, &call.function.arguments)
            };
            tool_calls.push(ToolRun {
                name: call.function.name.clone(),
                arguments: serde_json::from_str(&call.function.arguments)
                    .unwrap_or(Value::String(call.function.arguments.clone())),
                result: result.clone(),
            });
            messages.push(Message::tool_result(&call.id, result));
        }
    }
    unreachable!("the last round always returns")
}

/// Recognises `tool:<name> <json_args>`; `None` when the message is not a local call.
fn parse_local_call(message: &str) -> Option<Result<(String, Value)>> {
    let rest = message.trim_start();
    let head = rest.get(..5)?;
    if !head.eq_ignore_ascii_case("tool:") {
        return None;
    }
    let rest = rest[5..].trim();
    let (name, arguments) = match rest.find(char::is_whitespace) {
        Some(space) => (&rest[..space], rest[space..].trim()),
        None => (rest, ""),
    };
    Some(parse_local_arguments(name, arguments).map(|value| (name.to_string(), value)))
}

fn parse_local_arguments(name: &str, arguments: &str) -> Result<Value> {
    if name.is_empty() {
        return Err(Error::Input(
            "`tool:` needs a tool name, like `tool:time` (see `nanopy tools`)".into(),
        ));
    }
    if arguments.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(Error::Input(format!(
            "arguments for tool `{name}` must be a JSON object, like `{{\"key\": \"value\"}}`"
        ))),
        Err(error) => Err(Error::Input(format!(
            "invalid JSON arguments for tool `{name}` at line {}, column {}: {}",
            error.line(),
            error.column(),
            strip_position(&error.to_string())
        ))),
    }
}

fn run_local_call(registry: &Registry, name: &str, arguments: &Value) -> Result<String> {
    let tool = registry.get(name).ok_or_else(|| {
        Error::Input(format!(
            "unknown tool `{name}`; available tools: {}",
            registry.names()
        ))
    })?;
    tool.call(arguments)
        .map(crate::tools::cap)
        .map_err(|error| Error::Failed(format!("tool `{name}` failed: {error}")))
}

fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
}

/// Adds up the numeric usage fields of every round.
fn add_usage(total: &mut Option<Value>, round: Option<&Value>) {
    let Some(Value::Object(round)) = round else {
        return;
    };
    let total = total.get_or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(total) = total else {
        return;
    };
    for (key, value) in round {
        if let Some(n) = value.as_u64() {
            let sum = total.get(key).and_then(Value::as_u64).unwrap_or(0) + n;
            total.insert(key.clone(), Value::from(sum));
        }
    }
}

fn unix_now() -> u64 {
    jiff::Timestamp::now().as_second().max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn local_call_parses_name_and_optional_arguments() {
        let (name, args) = parse_local_call("tool:time").unwrap().unwrap();
        assert_eq!((name.as_str(), args), ("time", json!({})));
        let (name, args) = parse_local_call("  TOOL:memory_get {\"key\": \"a\"}")
            .unwrap()
            .unwrap();
        assert_eq!((name.as_str(), args), ("memory_get", json!({"key": "a"})));
        assert!(parse_local_call("what time is it").is_none());
    }

    #[test]
    fn local_call_with_bad_json_names_the_position() {
        let error = parse_local_call("tool:time {\"a\": }")
            .unwrap()
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("line 1, column 7"), "{text}");
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn usage_is_summed_over_rounds() {
        let mut total = None;
        add_usage(
            &mut total,
            Some(&json!({"prompt_tokens": 3, "total_tokens": 5})),
        );
        add_usage(
            &mut total,
            Some(&json!({"prompt_tokens": 4, "total_tokens": 6})),
        );
        assert_eq!(total, Some(json!({"prompt_tokens": 7, "total_tokens": 11})));
    }

    proptest::proptest! {
        #[test]
        fn any_message_is_a_local_call_or_not_without_panicking(message in "(tool:|TOOL:)?\\PC{0,60}") {
            if let Some(Ok((_, arguments))) = parse_local_call(&message) {
                proptest::prop_assert!(arguments.is_object());
            }
        }
    }
}
