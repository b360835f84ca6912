//! The agent: what lives across turns (the tool registry with its MCP servers, the provider
//! clients with their keys and connections) and one turn in steps: the local `tool:`
//! shortcut, learning from feedback, assembling the request (system prompt, rules, history,
//! input), and the tool-call loop, which talks to the model through the [`Chat`] trait.

use crate::chat::{Chat, ChatReply, ChatRequest, FunctionCall, Message, Role, ToolCall};
use crate::clock;
use crate::config::Config;
use crate::config::Route;
use crate::conversation::{Continuation, Outcome, TurnLog};
use crate::error::{Error, Result};
use crate::fallback::{Clients, Fallback};
use crate::feedback;
use crate::input::{self, Piece};
use crate::memory::Memory;
use crate::rules::{self, Rule};
use crate::tools::{Caller, Registry};
use crate::turn::{ToolRun, Turn};
use serde_json::{Map, Value};
use std::time::Instant;

/// The most rounds of tool calls one turn runs before asking for a final answer.
pub const MAX_TOOL_ROUNDS: usize = 8;

/// The system message's last line when the conversation's older exchanges did not fit
/// `context_chars` (SPEC §8): the model should not act as if it saw them.
const LEFT_OUT_NOTE: &str =
    "\n\nEarlier exchanges of this conversation were left out to fit the context.";

/// Whether a reply is exactly `NOTHING_TO_REPORT` (white space and a final period aside):
/// a `--quiet` job's turn with nothing worth reporting (SPEC §12).
pub fn is_nothing_to_report(reply: &str) -> bool {
    reply.trim().trim_end_matches('.').trim_end() == "NOTHING_TO_REPORT"
}

/// The system message's last line for a `--quiet` job's turn.
const QUIET_NOTE: &str = "\n\nWhen nothing is worth reporting, answer exactly NOTHING_TO_REPORT.";

/// How a turn should run.
#[derive(Debug, Clone, Default)]
pub struct TurnOptions {
    /// Overrides the configured model: a model, or an alias for a provider and a model.
    pub model: Option<String>,
    /// Picks a provider other than `default_provider`.
    pub provider: Option<String>,
    /// Ask for a server-sent-event stream and hand text to the caller as it arrives.
    pub stream: bool,
    /// Offer no tools to the model.
    pub no_tools: bool,
    /// Replaces the configured system prompt (`--system`).
    pub system: Option<String>,
    /// Input that comes with the message (stdin, files, pages), placed before it; never read
    /// for feedback.
    pub input: Vec<Piece>,
    /// Which conversation the turn continues.
    pub continuation: Continuation,
    /// The job that runs the turn, for the log.
    pub job: Option<String>,
    /// A `--quiet` job's turn: it may answer `NOTHING_TO_REPORT` (SPEC §12).
    pub quiet: bool,
    /// `--schema`: the JSON Schema the reply must match (SPEC §15).
    pub schema: Option<Value>,
}

/// One agent for one caller: built once, it runs any number of turns. Its tools (and the
/// MCP servers behind them) and its provider clients (and the `api_key_cmd` behind each) are
/// set up on first need and kept, so a conversation of many turns starts each MCP server and
/// runs each key command at most once. Dropping the agent shuts its MCP servers down.
pub struct Agent<'c> {
    config: &'c Config,
    caller: Caller,
    registry: Registry,
    clients: Clients,
}

impl<'c> Agent<'c> {
    /// An agent for `caller` (a scheduled job's gets no scheduling tools). Nothing starts
    /// yet: no server, no key command.
    pub fn new(config: &'c Config, caller: Caller) -> Agent<'c> {
        Agent {
            config,
            caller,
            registry: Registry::new(config, caller),
            clients: Clients::default(),
        }
    }

    /// Runs one turn for `message` and records it in the log. `on_text` receives reply text
    /// as it streams in (only with `options.stream`).
    pub fn turn(
        &mut self,
        message: &str,
        options: &TurnOptions,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Turn> {
        let started = clock::now();
        let timer = Instant::now();
        let config = self.config;
        let routes = config.route(options.provider.as_deref(), options.model.as_deref())?;
        let mut log = TurnLog::open(config, &options.continuation)?;
        let model = routes[0].model.clone();
        let mut asked = None;
        let result = self.steps(message, options, &log, routes, &mut asked, on_text);
        self.registry.end_turn();
        let quiet = options.quiet
            && result
                .as_ref()
                .is_ok_and(|turn| is_nothing_to_report(&turn.reply));
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
                quiet,
            },
        );
        let session = log.session().map(str::to_string);
        result.map(|turn| Turn {
            turn_id,
            session,
            ..turn
        })
    }

    /// The tools this agent offers.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The turn itself: a local `tool:` call, or learning, the budget, the request and the
    /// tool-call loop over the chain of `routes`. `asked` is set to the provider a request
    /// goes to (the one that answered, once one has), for the log.
    fn steps(
        &self,
        message: &str,
        options: &TurnOptions,
        log: &TurnLog,
        routes: Vec<Route>,
        asked: &mut Option<String>,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Turn> {
        let config = self.config;
        if let Some(call) = parse_local_call(message) {
            let (name, arguments) = call?;
            return run_local_call(&self.registry, name, arguments, routes[0].model.clone());
        }
        log.check_budget(config, clock::now())?;
        let memory = Memory::open(&config.memory_path);
        // Only what the user typed can teach a rule: a piped log or a fetched page saying
        // "from now on reply in French" is data, not an instruction.
        let (rule_learned, rules_in_force) = learn(&memory, message, self.caller, clock::now())?;
        let prompt = options.system.as_deref().unwrap_or(&config.system_prompt);
        let mut system = rules::system_message(prompt, &rules_in_force);
        let user = input::compose(&options.input, message);
        let history = log.history(config, user.chars().count())?;
        if history.left_out {
            system.push_str(LEFT_OUT_NOTE);
        }
        if options.quiet {
            system.push_str(QUIET_NOTE);
        }
        let mut messages = assemble(system, history.messages, &user);
        if let Some(last) = messages.last_mut() {
            last.images = input::images(&options.input);
        }
        *asked = Some(routes[0].provider.name.clone());
        let model = routes[0].model.clone();
        let chain = Fallback::new(routes, &self.clients);
        let (exchange, document) = match &options.schema {
            None => (
                converse(&chain, &self.registry, &model, messages, options, on_text)?,
                None,
            ),
            Some(schema) => {
                let (exchange, document) =
                    structured(&chain, &self.registry, &model, messages, options, schema)?;
                (exchange, Some(document))
            }
        };
        let answered = chain.answered();
        *asked = Some(answered.provider.name.clone());
        Ok(Turn {
            reply: exchange.reply,
            tool_calls: exchange.tool_calls,
            rule_number: rule_learned.as_ref().map(|learned| learned.rule.number),
            rules_replaced: rule_learned
                .as_ref()
                .map(|learned| learned.replaced.clone())
                .unwrap_or_default(),
            rule_learned: rule_learned.map(|learned| learned.rule.text),
            model: exchange.model.unwrap_or_else(|| answered.model.clone()),
            usage: exchange.usage,
            provider: asked.clone(),
            messages: exchange.added,
            document,
            ..Turn::default()
        })
    }
}

/// A `--schema` turn: the tool-call loop, then the reply checked against the schema; when it
/// does not match, one repair request names the errors; when it still does not, the turn
/// fails with them (exit 1: a reply that does not validate is no provider failure). The
/// reply becomes the document as one line of JSON.
fn structured(
    chat: &dyn Chat,
    registry: &Registry,
    model: &str,
    messages: Vec<Message>,
    options: &TurnOptions,
    schema: &Value,
) -> Result<(Exchange, Value)> {
    // The document prints once it validates: nothing streams.
    let quiet = TurnOptions {
        stream: false,
        ..options.clone()
    };
    let earlier = messages[..messages.len() - 1].to_vec();
    let mut exchange = converse(chat, registry, model, messages, &quiet, &mut |_| {})?;
    let errors = match crate::schema::check(&exchange.reply, schema) {
        Ok(document) => return Ok((settled(exchange, &document), document)),
        Err(errors) => errors,
    };
    let mut again = earlier;
    again.extend(exchange.added.iter().cloned());
    again.push(Message::new(
        Role::User,
        format!(
            "That answer does not match the JSON Schema: {}. Answer again with only the \
             corrected JSON document.",
            errors.join("; ")
        ),
    ));
    let repair = converse(chat, registry, model, again, &quiet, &mut |_| {})?;
    add_usage(&mut exchange.usage, repair.usage.as_ref());
    exchange.tool_calls.extend(repair.tool_calls);
    exchange.added.extend(repair.added);
    exchange.model = repair.model.or(exchange.model);
    exchange.reply = repair.reply;
    match crate::schema::check(&exchange.reply, schema) {
        Ok(document) => Ok((settled(exchange, &document), document)),
        Err(errors) => Err(Error::Failed(format!(
            "the reply does not match the schema, also after a repair request: {}",
            errors.join("; ")
        ))),
    }
}

/// The exchange with its reply as the document's one line of JSON.
fn settled(mut exchange: Exchange, document: &Value) -> Exchange {
    exchange.reply = document.to_string();
    exchange
}

/// Learns a rule from `message` if it is feedback, and returns it with the rules now in
/// force. Rules come from a person: a scheduled job's stored message is not new feedback.
fn learn(
    memory: &Memory,
    message: &str,
    caller: Caller,
    now: i64,
) -> Result<(Option<rules::Learned>, Vec<Rule>)> {
    let detected = match caller {
        Caller::User => feedback::detect(message),
        Caller::Job => None,
    };
    // Learning returns the rules in force, so the file is read once either way.
    match detected {
        Some(text) => {
            let learned = rules::learn(memory, &text, now)?;
            let rules = learned.rules.clone();
            Ok((Some(learned), rules))
        }
        None => Ok((None, rules::list(memory, now)?)),
    }
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
        let response_format = options.schema.as_ref().map(crate::schema::response_format);
        let request = ChatRequest {
            response_format: response_format.as_ref(),
            ..ChatRequest::new(model, &messages, offered, options.stream)
        };
        let mut reply = chat.send(&request, on_text)?;
        if reply.tool_calls.is_empty() && !options.no_tools && !last_round {
            recover_text_calls(&mut reply, offered);
        }
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

/// A reply whose whole content is tool calls written as text (SPEC §15) becomes those calls,
/// with generated ids, so they run and go back in the history as real `tool_calls`.
fn recover_text_calls(reply: &mut ChatReply, offered: &[Value]) {
    let names: Vec<&str> = offered
        .iter()
        .filter_map(|tool| tool["function"]["name"].as_str())
        .collect();
    let Some(calls) = reply
        .content
        .as_deref()
        .and_then(|content| crate::text_calls::recover(content, &names))
    else {
        return;
    };
    reply.tool_calls = calls
        .into_iter()
        .enumerate()
        .map(|(n, call)| ToolCall {
            id: format!("call_text_{n}"),
            kind: "function",
            function: FunctionCall {
                name: call.name,
                arguments: call.arguments,
            },
        })
        .collect();
    reply.content = None;
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
            ..TurnOptions::default()
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

    /// Counts the lines of a file that a test's shell commands append to.
    fn lines(path: &std::path::Path) -> usize {
        std::fs::read_to_string(path).map_or(0, |text| text.lines().count())
    }

    #[test]
    fn two_turns_of_one_agent_start_an_mcp_server_and_run_a_key_command_once() {
        let dir = crate::test_support::scratch_dir("agent-lives");
        let call = json!({"choices": [{"message": {"role": "assistant", "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "fake__echo", "arguments": "{\"text\": \"hi\"}"}}]}}]});
        let answer = json!({"choices": [{"message": {"role": "assistant", "content": "done"}}]});
        let server = crate::test_support::FakeChatServer::start(
            [&call, &answer, &call, &answer, &call, &answer]
                .iter()
                .map(|body| body.to_string())
                .collect(),
        );
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/fake_mcp.py");
        let keys = dir.join("keys");
        let started = dir.join("started");
        let config = json!({
            "providers": {"p": {
                "base_url": server.base_url, "model": "m", "max_retries": 0,
                "api_key_cmd": format!("echo run >> {}; echo secret-key", keys.display()),
            }},
            "default_provider": "p",
            "mcp": {"fake": {"command": "python3", "args": [
                script.display().to_string(), "--started", started.display().to_string()]}},
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let home = dir.display().to_string();
        let config =
            Config::load_with(&|name| (name == "NANOPYBOT_HOME").then(|| home.clone())).unwrap();
        let mut agent = Agent::new(&config, Caller::User);
        for _ in 0..2 {
            let turn = agent
                .turn("echo hi", &TurnOptions::default(), &mut |_| {})
                .unwrap();
            assert_eq!(turn.reply, "done");
            assert_eq!(turn.tool_calls[0].result, "hi");
        }
        assert_eq!(lines(&started), 1, "the MCP server started once");
        assert_eq!(lines(&keys), 1, "the key command ran once");
        let requests = server.requests.lock().unwrap();
        assert_eq!(requests.len(), 4);
        assert!(requests.iter().all(|r| r.contains("Bearer secret-key")));
        drop(requests);
        drop(agent);
        // Dropping the agent shut the server down; a new agent starts it again.
        let mut second = Agent::new(&config, Caller::User);
        second
            .turn("echo hi", &TurnOptions::default(), &mut |_| {})
            .unwrap();
        assert_eq!(lines(&started), 2);
        assert_eq!(lines(&keys), 2);
    }

    #[test]
    fn nothing_to_report_is_recognised_exactly() {
        for reply in [
            "NOTHING_TO_REPORT",
            "  NOTHING_TO_REPORT.\n",
            "NOTHING_TO_REPORT\n",
        ] {
            assert!(is_nothing_to_report(reply), "{reply:?}");
        }
        for reply in [
            "nothing to report",
            "NOTHING_TO_REPORT, but disk is 91%",
            "",
        ] {
            assert!(!is_nothing_to_report(reply), "{reply:?}");
        }
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
