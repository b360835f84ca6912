//! One agent turn, in steps: the local `tool:` shortcut, learning from feedback, assembling
//! the request (system prompt, rules, history, input), and the tool-call loop, which talks to
//! the model through the [`Chat`] trait.

use crate::clock;
use crate::config::Config;
use crate::config::Route;
use crate::conversation::{Continuation, Outcome, TurnLog};
use crate::error::{Error, Result};
use crate::fallback::Fallback;
use crate::feedback;
use crate::input::{self, Piece};
use crate::memory::Memory;
use crate::provider::{Chat, ChatRequest, Message, Role};
use crate::rules;
use crate::tools::{Caller, Registry};
use crate::turn::{ToolRun, Turn};
use serde_json::{Map, Value};
use std::time::Instant;

/// The most rounds of tool calls one turn runs before asking for a final answer.
pub const MAX_TOOL_ROUNDS: usize = 8;

/// How a turn should run.
#[derive(Debug, Clone)]
pub struct TurnOptions {
    /// Overrides the configured model: a model, or an alias for a provider and a model.
    pub model: Option<String>,
    /// Picks a provider other than `default_provider`.
    pub provider: Option<String>,
    /// Ask for a server-sent-event stream and hand text to the caller as it arrives.
    pub stream: bool,
    /// Offer no tools to the model.
    pub no_tools: bool,
    /// Who runs the turn (a scheduled job gets no scheduling tools).
    pub caller: Caller,
    /// Replaces the configured system prompt (`--system`).
    pub system: Option<String>,
    /// Input that comes with the message (stdin, files, pages), placed before it; never read
    /// for feedback.
    pub input: Vec<Piece>,
    /// Which conversation the turn continues.
    pub continuation: Continuation,
    /// The job that runs the turn, for the log.
    pub job: Option<String>,
}

impl TurnOptions {
    /// A plain turn for `caller`: the configured model, prompt and tools, no input.
    pub fn new(caller: Caller) -> TurnOptions {
        TurnOptions {
            model: None,
            provider: None,
            stream: false,
            no_tools: false,
            caller,
            system: None,
            input: Vec::new(),
            continuation: Continuation::New,
            job: None,
        }
    }
}

/// Runs one turn for `message` and records it in the log. `on_text` receives reply text as
/// it streams in (only with `options.stream`).
pub fn run(
    config: &Config,
    message: &str,
    options: &TurnOptions,
    on_text: &mut dyn FnMut(&str),
) -> Result<Turn> {
    let started = clock::now();
    let timer = Instant::now();
    let routes = config.route(options.provider.as_deref(), options.model.as_deref())?;
    let mut log = TurnLog::open(config, &options.continuation)?;
    let model = routes[0].model.clone();
    let mut asked = None;
    let result = steps(config, message, options, &log, routes, &mut asked, on_text);
    let turn_id = log.record(
        config,
        &Outcome {
            started,
            job: options.job.as_deref(),
            provider: asked.as_deref(),
            model: result.as_ref().map_or(&model, |turn| &turn.model),
            message,
            messages: result.as_ref().map_or(&[][..], |turn| &turn.messages),
            duration_ms: timer.elapsed().as_millis() as i64,
            result: &result,
        },
    );
    let session = log.session().map(str::to_string);
    result.map(|turn| Turn {
        turn_id,
        session,
        ..turn
    })
}

/// The turn itself: a local `tool:` call, or learning, the budget, the request and the
/// tool-call loop over the chain of `routes`. `asked` is set to the provider a request goes
/// to (the one that answered, once one has), for the log.
fn steps(
    config: &Config,
    message: &str,
    options: &TurnOptions,
    log: &TurnLog,
    routes: Vec<Route>,
    asked: &mut Option<String>,
    on_text: &mut dyn FnMut(&str),
) -> Result<Turn> {
    let registry = Registry::new(config, options.caller);
    if let Some(call) = parse_local_call(message) {
        let (name, arguments) = call?;
        return run_local_call(&registry, name, arguments, routes[0].model.clone());
    }
    log.check_budget(config, clock::now())?;
    let memory = Memory::open(&config.memory_path);
    // Only what the user typed can teach a rule: a piped log or a fetched page saying
    // "from now on reply in French" is data, not an instruction.
    let (rule_learned, rules_in_force) = learn(&memory, message, options.caller, clock::now())?;
    let prompt = options.system.as_deref().unwrap_or(&config.system_prompt);
    let system = rules::system_message(prompt, &rules_in_force);
    let history = log.history(config)?;
    let messages = assemble(system, history, &input::compose(&options.input, message));
    *asked = Some(routes[0].provider.name.clone());
    let model = routes[0].model.clone();
    let chain = Fallback::new(routes);
    let exchange = converse(&chain, &registry, &model, messages, options, on_text)?;
    let answered = chain.answered();
    *asked = Some(answered.provider.name.clone());
    // A learned rule is always the newest, so its number is the count of rules in force.
    let rule_number = rule_learned.as_ref().map(|_| rules_in_force.len());
    Ok(Turn {
        reply: exchange.reply,
        tool_calls: exchange.tool_calls,
        rule_learned,
        rule_number,
        model: exchange.model.unwrap_or_else(|| answered.model.clone()),
        usage: exchange.usage,
        provider: asked.clone(),
        messages: exchange.added,
        ..Turn::default()
    })
}

/// Learns a rule from `message` if it is feedback, and returns it with the rules now in
/// force. Rules come from a person: a scheduled job's stored message is not new feedback.
fn learn(
    memory: &Memory,
    message: &str,
    caller: Caller,
    now: i64,
) -> Result<(Option<String>, Vec<String>)> {
    let rule = match caller {
        Caller::User => feedback::detect(message),
        Caller::Job => None,
    };
    // Learning returns the rules in force, so the file is read once either way.
    let rules = match &rule {
        Some(rule) => rules::learn(memory, rule, now)?,
        None => rules::list(memory, now)?,
    };
    Ok((rule, rules))
}

/// The messages of a request: one system message, the conversation so far, then the user's
/// new message.
fn assemble(system: String, history: Vec<Message>, message: &str) -> Vec<Message> {
    let mut messages = Vec::with_capacity(history.len() + 2);
    messages.push(Message::new(Role::System, system));
    messages.extend(history);
    messages.push(Message::new(Role::User, message));
    messages
}

/// What the tool-call loop produced.
#[derive(Debug)]
struct Exchange {
    reply: String,
    tool_calls: Vec<ToolRun>,
    /// The model the server says answered, if it said.
    model: Option<String>,
    usage: Option<Value>,
    /// The messages this turn added to the conversation: the user's, then the model's and
    /// the tool results.
    added: Vec<Message>,
}

/// The tool-call loop: ask, run the tools the model calls, append their results, ask again;
/// at most [`MAX_TOOL_ROUNDS`] rounds, then one last request with no tools on offer.
fn converse(
    chat: &dyn Chat,
    registry: &Registry,
    model: &str,
    mut messages: Vec<Message>,
    options: &TurnOptions,
    on_text: &mut dyn FnMut(&str),
) -> Result<Exchange> {
    let tools = if options.no_tools {
        Vec::new()
    } else {
        registry.schemas()
    };
    // The new user message is the last one handed in; what follows it is this turn's.
    let first_added = messages.len().saturating_sub(1);
    let mut exchange = Exchange {
        reply: String::new(),
        tool_calls: Vec::new(),
        model: None,
        usage: None,
        added: Vec::new(),
    };
    for round in 0..=MAX_TOOL_ROUNDS {
        let last_round = round == MAX_TOOL_ROUNDS;
        // After the last allowed round the model must answer in text: no tools on offer.
        let offered = if last_round { &[][..] } else { &tools };
        let request = ChatRequest::new(model, &messages, offered, options.stream);
        let reply = chat.send(&request, on_text)?;
        add_usage(&mut exchange.usage, reply.usage.as_ref());
        exchange.model = reply.model.clone().or(exchange.model);
        if reply.tool_calls.is_empty() || last_round {
            exchange.reply = reply.content.unwrap_or_else(|| {
                format!("(no answer after {MAX_TOOL_ROUNDS} rounds of tool calls)")
            });
            messages.push(Message::new(Role::Assistant, exchange.reply.clone()));
            exchange.added = messages.split_off(first_added);
            return Ok(exchange);
        }
        messages.push(Message {
            tool_calls: reply.tool_calls.clone(),
            ..Message::new(Role::Assistant, reply.content.unwrap_or_default())
        });
        for call in reply.tool_calls {
            // Some servers return tool calls even when none were offered; with --no-tools
            // nothing runs.
            let result = if options.no_tools {
                "error: tools are disabled for this turn; answer without them".to_string()
            } else {
                registry.call_for_model(&call.function.name, &call.function.arguments)
            };
            exchange.tool_calls.push(ToolRun {
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
            crate::error::json_error_text(&error)
        ))),
    }
}

/// Runs a `tool:` call with no provider call; its result is the reply.
fn run_local_call(
    registry: &Registry,
    name: String,
    arguments: Value,
    model: String,
) -> Result<Turn> {
    let tool = registry.get(&name).ok_or_else(|| {
        Error::Input(format!(
            "unknown tool `{name}`; available tools: {}",
            registry.names()
        ))
    })?;
    let result = tool
        .call(&arguments)
        .map(crate::tools::cap)
        .map_err(|error| Error::Failed(format!("tool `{name}` failed: {error}")))?;
    Ok(Turn {
        reply: format!("[tool:{name}] {}", result.trim_end()),
        tool_calls: vec![ToolRun {
            name,
            arguments,
            result,
        }],
        model,
        ..Turn::default()
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{ChatReply, FunctionCall, ToolCall};
    use crate::tools::{Tool, ToolResult};
    use serde_json::json;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    /// A model that always answers with the same reply, recording the tools each request
    /// offered.
    struct ScriptedChat {
        reply: ChatReply,
        offered: RefCell<Vec<usize>>,
    }

    impl Chat for ScriptedChat {
        fn send(&self, request: &ChatRequest, _: &mut dyn FnMut(&str)) -> Result<ChatReply> {
            self.offered.borrow_mut().push(request.tools.len());
            Ok(self.reply.clone())
        }
    }

    fn always_calls(tool: &str) -> ScriptedChat {
        ScriptedChat {
            reply: ChatReply {
                content: None,
                tool_calls: vec![ToolCall {
                    id: "c1".into(),
                    kind: "function",
                    function: FunctionCall {
                        name: tool.into(),
                        arguments: "{}".into(),
                    },
                }],
                ..ChatReply::default()
            },
            offered: RefCell::default(),
        }
    }

    /// A tool that counts its calls.
    struct Counter(Rc<Cell<usize>>);

    impl Tool for Counter {
        fn name(&self) -> &str {
            "counter"
        }
        fn description(&self) -> &str {
            "counts"
        }
        fn parameters(&self) -> Value {
            json!({"type": "object", "properties": {}})
        }
        fn call(&self, _: &Value) -> ToolResult {
            self.0.set(self.0.get() + 1);
            Ok("counted".into())
        }
    }

    fn options(no_tools: bool) -> TurnOptions {
        TurnOptions {
            no_tools,
            ..TurnOptions::new(Caller::User)
        }
    }

    fn counter_registry() -> (Registry, Rc<Cell<usize>>) {
        let count = Rc::new(Cell::new(0));
        let registry = Registry::from_tools(vec![Box::new(Counter(Rc::clone(&count)))]);
        (registry, count)
    }

    #[test]
    fn after_the_last_round_no_tools_are_offered() {
        let (registry, count) = counter_registry();
        let chat = always_calls("counter");
        let messages = assemble("sys".into(), Vec::new(), "go");
        let exchange = converse(
            &chat,
            &registry,
            "m",
            messages,
            &options(false),
            &mut |_| {},
        )
        .unwrap();
        let mut expected = vec![1; MAX_TOOL_ROUNDS];
        expected.push(0);
        assert_eq!(*chat.offered.borrow(), expected);
        assert_eq!(count.get(), MAX_TOOL_ROUNDS);
        assert_eq!(exchange.tool_calls.len(), MAX_TOOL_ROUNDS);
        assert!(
            exchange.reply.contains("no answer after 8 rounds"),
            "{}",
            exchange.reply
        );
    }

    #[test]
    fn no_tools_offers_none_and_runs_none_even_when_the_model_calls_one() {
        let (registry, count) = counter_registry();
        let chat = always_calls("counter");
        let messages = assemble("sys".into(), Vec::new(), "go");
        let exchange =
            converse(&chat, &registry, "m", messages, &options(true), &mut |_| {}).unwrap();
        assert!(chat.offered.borrow().iter().all(|&n| n == 0));
        assert_eq!(count.get(), 0);
        assert!(exchange.tool_calls[0].result.contains("tools are disabled"));
    }

    #[test]
    fn a_request_is_system_then_history_then_the_message() {
        let history = vec![
            Message::new(Role::User, "earlier"),
            Message::new(Role::Assistant, "answer"),
        ];
        let roles: Vec<Role> = assemble("sys".into(), history, "now")
            .iter()
            .map(|message| message.role)
            .collect();
        assert_eq!(
            roles,
            [Role::System, Role::User, Role::Assistant, Role::User]
        );
    }

    #[test]
    fn a_job_message_never_teaches_a_rule() {
        let dir = crate::test_support::scratch_dir("agent-learn");
        let memory = Memory::open(&dir.join("memory.json"));
        let (rule, rules) = learn(&memory, "from now on answer in French", Caller::Job, 0).unwrap();
        assert_eq!((rule, rules.len()), (None, 0));
        let (rule, rules) =
            learn(&memory, "from now on answer in French", Caller::User, 0).unwrap();
        assert!(rule.is_some());
        assert_eq!(rules.len(), 1);
    }

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
