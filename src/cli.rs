//! The command line: arguments → [`Command`], and the help texts. No I/O happens here.

use crate::cron::When;
use crate::error::{Error, Result};
use pico_args::Arguments;
use std::ffi::OsString;

/// One parsed invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print help: the overview, or one command's.
    Help(Option<&'static str>),
    Version,
    Agent(AgentArgs),
    CronAdd {
        name: String,
        /// The schedule: required here.
        job: JobOptions,
        replace: bool,
    },
    CronEdit {
        name: String,
        /// Only what is given changes.
        job: JobOptions,
    },
    CronList {
        json: bool,
    },
    CronRemove {
        name: String,
    },
    CronEnable {
        name: String,
    },
    CronDisable {
        name: String,
    },
    CronNext {
        when: When,
        count: usize,
        tz: Option<String>,
        from: Option<String>,
    },
    CronRun {
        once: bool,
    },
    Serve,
    CronFire {
        name: String,
    },
    CronHistory {
        name: Option<String>,
        limit: i64,
        json: bool,
    },
    MemoryGet {
        key: String,
    },
    MemorySet {
        key: String,
        value: String,
        ttl: Option<String>,
    },
    MemoryDelete {
        key: String,
    },
    MemoryKeys,
    Rules,
    RulesForget {
        number: u64,
    },
    RulesClear,
    Log {
        count: i64,
        session: Option<String>,
        job: Option<String>,
        json: bool,
    },
    Sessions {
        json: bool,
    },
    SessionClear {
        name: String,
    },
    Usage {
        since: Option<String>,
        json: bool,
    },
    Tools {
        refresh: bool,
    },
    Config,
    /// `chat`: a conversation on the terminal (or line by line from stdin).
    Chat(ChatArgs),
    /// `notify TARGET... [TEXT]`: the words, targets first.
    Notify {
        words: Vec<String>,
    },
    Doctor,
}

/// The arguments of `agent`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentArgs {
    /// The message words; empty or `-` means the message is stdin.
    pub message: Vec<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    /// Replaces the configured system prompt for this turn.
    pub system: Option<String>,
    /// `-f` files and URLs, in order; `-` is stdin.
    pub files: Vec<String>,
    /// Do not read stdin as input for the message.
    pub no_stdin: bool,
    /// `-c`: continue the most recent conversation.
    pub continue_latest: bool,
    /// `--session NAME`: continue (or start) the named conversation.
    pub session: Option<String>,
    pub json: bool,
    pub stream: bool,
    pub no_tools: bool,
    /// `--to TARGET`: deliver the reply there too (repeatable).
    pub to: Vec<String>,
    /// `--schema SCHEMA` or `--schema-multi SCHEMA`: the text, and whether multi.
    pub schema: Option<(String, bool)>,
}

/// The options of `chat`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatArgs {
    pub session: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub system: Option<String>,
    pub no_tools: bool,
}

/// A job's options as given to `cron-add` or `cron-edit`: what is absent takes its default
/// (add) or stays as it was (edit).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobOptions {
    pub message: Option<String>,
    pub when: Option<When>,
    pub tz: Option<String>,
    pub grace: Option<i64>,
    /// An empty command clears it.
    pub notify: Option<String>,
    /// An empty model clears it (the job then follows the config).
    pub model: Option<String>,
    /// `--no-tools` is `Some(false)`; `--tools` (edit) is `Some(true)`.
    pub tools: Option<bool>,
    /// The conversation every run continues; an empty name clears it.
    pub session: Option<String>,
    /// The provider its turns use; an empty name clears it (then the config decides).
    pub provider: Option<String>,
    /// `--to TARGET` (repeatable); `none` alone clears the list.
    pub to: Option<Vec<String>>,
    /// `--notify-on STATUSES`, comma-separated.
    pub notify_on: Option<String>,
    /// `--check CMD`; `none` clears it.
    pub check: Option<String>,
    /// `--quiet` is `Some(true)`, `--no-quiet` (edit) `Some(false)`.
    pub quiet: Option<bool>,
    /// `--file PATH` (repeatable); `none` alone clears the list.
    pub files: Option<Vec<String>>,
}

/// The overview printed by `nanopy --help`.
pub const MAIN_HELP: &str = "\
nanopy — a small command-line AI agent with learned rules, memory and a cron scheduler

Usage: nanopy <COMMAND> [ARGS...]

Agent:
  agent [MESSAGE...]        one agent turn (message from stdin when absent or `-`)
  chat                      a conversation of many turns
  rules                     list the learned feedback rules, numbered
  rules-forget N            forget rule N
  rules-clear               forget the learned rules
  tools                     list the tools and their parameters

Conversations:
  log                       past turns, newest first
  sessions                  the named conversations
  session-clear NAME        forget a named conversation
  usage                     tokens per day, provider and model

Memory:
  memory-get KEY            print a value
  memory-set KEY VALUE      store a value (JSON if it parses, else a string)
  memory-delete KEY         remove a key
  memory-keys               list the keys

Scheduler:
  cron-add                  store a scheduled agent job
  cron-edit NAME            change a job, keeping its history
  cron-list                 list the jobs
  cron-remove NAME          remove a job
  cron-enable NAME          enable a job
  cron-disable NAME         disable a job
  cron-next EXPR            print the next fire times of a schedule
  cron-run [--once]         run the scheduler
  serve                     run the scheduler (and the Telegram bot, once it is built)
  cron-fire NAME            run a job now
  cron-history [NAME]       past runs

Deliveries:
  notify TARGET... [TEXT]   send TEXT (or stdin) to delivery targets now

Setup:
  config                    show the files in use and the effective configuration
  doctor                    check config, files, stores, time zone and provider

Options:
  -h, --help                print help (also `nanopy <COMMAND> --help`, `nanopy help COMMAND`)
  -V, --version             print the version

Environment:
  NANOPYBOT_HOME            the data directory (default ~/.nanopybot)
  NANOPY_API_KEY, NANOPY_BASE_URL, NANOPY_MODEL
                            override the `provider` object's key, URL and model
  OPENAI_API_KEY, OPENAI_BASE_URL
                            the same, when the NANOPY_ ones are not set
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY
                            the proxy for outgoing requests, and hosts that bypass it
  TZ                        the zone of jobs added without --tz (else /etc/localtime)

Files: config.json (every setting; `nanopy config` shows them), memory.json, jobs.sqlite,
log.sqlite and mcp-tools.json in the data directory.
Exit codes: 0 ok, 1 failure, 2 usage or invalid input, 3 local state problem, 4 provider failure.
";

/// Each command's name and help text.
const COMMAND_HELP: &[(&str, &str)] = &[
    (
        "agent",
        "\
Usage: nanopy agent [OPTIONS] [MESSAGE...]

Sends one turn to the provider and prints the reply. Without MESSAGE, or with `-`, the
message is read from stdin. With MESSAGE, piped stdin and each `-f` file or URL go before the
message, each in a block naming its source: `journalctl -u nginx | nanopy agent \"alarming?\"`.
`tool:<name> <json>` runs a tool locally with no provider call. Feedback typed in MESSAGE,
such as \"from now on answer in English\" or \"rule: …\", is learned as a rule.

Options:
  -f, --file PATH|URL   add a UTF-8 text file, `-` (stdin) or an http(s) page (HTML is
                        reduced to its text); repeatable. At most `limits.input_bytes` in all
      --no-stdin        do not read stdin as input for the message
  -s, --system TEXT     use TEXT as the system prompt for this turn
      --model M         use model M, or an alias for a provider and model (`aliases`)
      --provider NAME   use the provider NAME (`providers`) instead of `default_provider`
  -c, --continue        continue your most recent conversation
      --session NAME    continue (or start) the conversation NAME
      --json            print one JSON object: reply, tool_calls, rule_learned, model,
                        provider, usage, session, turn_id
      --stream          print the reply as it arrives
      --no-tools        offer no tools to the model
      --schema SCHEMA   answer with one line of JSON matching SCHEMA: a JSON Schema (inline,
                        or @FILE) or llm's concise form, like `name, age int, bio: one line`
                        (types str, int, float, bool); validated, with one repair request
      --schema-multi SCHEMA
                        the same for `{\"items\": [...]}` of objects of SCHEMA
      --to TARGET       deliver the reply to TARGET too (a name in `targets`, or
                        `telegram:<chat id>`); repeatable. A target that does not accept it
                        is a warning and exit 1
  -h, --help            print this help
",
    ),
    (
        "chat",
        "\
Usage: nanopy chat [--session NAME] [--model M] [--provider NAME] [-s TEXT] [--no-tools]

A conversation: each line you type is a turn in one session (`--session NAME`, or a new one
named chat-<local time>), the reply streams as it arrives, and the agent lives for the whole
chat (MCP servers and key commands start at most once). Slash commands: /help, /new,
/session NAME, /model M, /rules, /forget N, /tools, /exit (or Ctrl-D). With stdin not a
terminal, one message per line (empty lines skipped), each reply followed by an empty line.

Options:
      --session NAME    continue (or start) the session NAME
      --model M         use model M, or an alias
      --provider NAME   use the provider NAME
  -s, --system TEXT     use TEXT as the system prompt
      --no-tools        offer no tools to the model
  -h, --help            print this help
",
    ),
    (
        "notify",
        "\
Usage: nanopy notify TARGET... [TEXT]

Sends TEXT (or stdin, without TEXT) to each TARGET now: a name in `targets` of the config, or
`telegram:<chat id>`. The leading arguments that name targets are the targets; the first that
does not starts TEXT. No outbox and no quiet hours: a person asked now. Exit 0 only when every
target accepted the text, else 1 naming each that did not; an unknown target is exit 2 and
nothing is sent.

Options:
  -h, --help            print this help
",
    ),
    (
        "cron-add",
        "\
Usage: nanopy cron-add --name N --message M (--cron EXPR | --at TIME | --in DURATION |
                       --every DURATION) [OPTIONS]

Stores a job that runs an agent turn with message M on a schedule, and prints its next fire
time. A name is 1 to 64 characters, without control characters or space at either end.

Schedules (give exactly one):
      --cron EXPR       a 5-field crontab expression (minute hour day-of-month month
                        day-of-week), 6 fields with seconds first, or @yearly @monthly
                        @weekly @daily @hourly
      --at TIME         once, at TIME: RFC 3339 (2026-12-24T18:00:00+01:00), or
                        `YYYY-MM-DD HH:MM` or `HH:MM` in the job's zone (`HH:MM` already past
                        today means tomorrow); afterwards the job is disabled and kept
      --in DURATION     once, DURATION from now, like 90s, 15m, 2h, 7d or 1h30m
      --every DURATION  at fixed intervals (at least 1m) from the moment it is added

Options:
      --tz ZONE        IANA time zone of the schedule (default: the system zone)
      --grace SECS     run a fire missed by at most SECS after downtime (default 600)
      --notify CMD     run `sh -c CMD` after each run, with the reply on stdin (and
                       NANOPY_JOB, NANOPY_STATUS); delivered like a target
      --to TARGET      deliver each run to TARGET (a name in `targets`, or
                       `telegram:<chat id>`); repeatable
      --notify-on STATUSES
                       the run statuses that deliver, comma-separated, from ok, failed,
                       missed, quiet, skipped, interrupted (default ok,failed,missed)
      --check CMD      run `sh -c CMD` first: exit 0 runs the turn with its output as input,
                       exit 1 is a `quiet` run with no provider call, anything else `failed`
      --quiet          let the turn answer NOTHING_TO_REPORT, which makes the run `quiet`
      --file PATH      read PATH at every fire and send it with the message (text, or a
                       JPEG/PNG/GIF/WebP image, like `agent -f`); repeatable
      --model M        use model M (or an alias) for this job's turns (default: the config's)
      --provider NAME  use the provider NAME for this job's turns (default: the config's)
      --session NAME   every run continues the conversation NAME, so it knows what it
                       said before
      --no-tools       offer no tools to this job's turns
      --replace        replace a job of the same name (its history stays)
  -h, --help           print this help
",
    ),
    (
        "cron-edit",
        "\
Usage: nanopy cron-edit NAME [OPTIONS]

Changes a job in place; its history stays and its next fire is recomputed from now. Takes
the options of `cron-add` (one schedule at most) and changes only what is given. An empty
`--notify ''`, `--model ''`, `--provider ''` or `--session ''` removes it; `--to` replaces the
list (`--to none` clears it), `--check none` removes the check. A disabled job stays disabled.

Options:
      --message M, --cron EXPR, --at TIME, --in DURATION, --every DURATION,
      --tz ZONE, --grace SECS, --notify CMD, --model M, --provider NAME,
      --session NAME, --no-tools, --to TARGET, --notify-on STATUSES, --check CMD,
      --quiet, --file PATH (`--file none` clears the files)
      --tools          offer tools to the job's turns again
      --no-quiet       the turn may no longer answer NOTHING_TO_REPORT
  -h, --help           print this help
",
    ),
    (
        "cron-list",
        "\
Usage: nanopy cron-list [--json]

Lists the jobs with expression, zone, enabled, next fire and last status.
",
    ),
    (
        "cron-remove",
        "Usage: nanopy cron-remove NAME\n\nRemoves a job and its history.\n",
    ),
    (
        "cron-enable",
        "Usage: nanopy cron-enable NAME\n\nEnables a job; it next fires at its next scheduled time.\n",
    ),
    (
        "cron-disable",
        "Usage: nanopy cron-disable NAME\n\nDisables a job without removing it.\n",
    ),
    (
        "cron-next",
        "\
Usage: nanopy cron-next (EXPR | --at TIME | --in DURATION | --every DURATION)
                        [-n N] [--tz ZONE] [--from RFC3339]

Prints the next N (default 5) fire times of a schedule, one RFC 3339 timestamp per line:
a dry run of what `cron-add` would do with it.

Options:
  -n N              how many fire times
      --tz ZONE     the time zone (default: the system zone)
      --from TIME   start after TIME (RFC 3339, e.g. 2026-03-08T00:00:00Z) instead of now
",
    ),
    (
        "cron-run",
        "\
Usage: nanopy cron-run [--once]

Runs the scheduler: fires each job when due, in its time zone, exactly once even with other
schedulers on the same store. Runs one line of log per fire on stdout.

Options:
      --once        run what is due now, then exit (for the system crontab)
",
    ),
    (
        "serve",
        "\
Usage: nanopy serve

Runs the scheduler, as `cron-run` does, for one systemd unit. The Telegram bot of SPEC §13
is not built yet: with `telegram` configured, serve says so once on stderr and runs the
scheduler alone.
",
    ),
    (
        "cron-fire",
        "Usage: nanopy cron-fire NAME\n\nRuns a job now and records the run in its history.\n",
    ),
    (
        "cron-history",
        "\
Usage: nanopy cron-history [NAME] [--limit N] [--json]

Past runs, newest first: scheduled time, start, duration, status, first line of output.

Options:
      --limit N     at most N runs (default 20)
      --json        print a JSON array
",
    ),
    (
        "memory-get",
        "Usage: nanopy memory-get KEY\n\nPrints the value of KEY (strings as they are, other values as JSON). Exit 1 if absent.\n",
    ),
    (
        "memory-set",
        "\
Usage: nanopy memory-set KEY VALUE [--ttl DURATION]

Stores VALUE under KEY: as JSON if it parses as JSON, else as a string.

Options:
      --ttl DURATION   forget the key after DURATION, like 90s, 15m, 2h or 7d
",
    ),
    (
        "memory-delete",
        "Usage: nanopy memory-delete KEY\n\nRemoves KEY. Exit 1 if it was not there.\n",
    ),
    (
        "memory-keys",
        "Usage: nanopy memory-keys\n\nLists the keys, one per line.\n",
    ),
    (
        "rules",
        "Usage: nanopy rules\n\nLists the learned feedback rules, oldest first, as `N. rule`.\n",
    ),
    (
        "rules-forget",
        "Usage: nanopy rules-forget N\n\nForgets rule N, as numbered by `nanopy rules`.\n",
    ),
    (
        "rules-clear",
        "Usage: nanopy rules-clear\n\nForgets every learned rule.\n",
    ),
    (
        "log",
        "\
Usage: nanopy log [-n N] [--session NAME] [--job NAME] [--json]

Past turns, newest first: time, session or job, model, outcome, the message and the reply.

Options:
  -n N              at most N turns (default 20)
      --session NAME  only the turns of the conversation NAME
      --job NAME    only the turns of the job NAME
      --json        print a JSON array
",
    ),
    (
        "sessions",
        "Usage: nanopy sessions [--json]\n\nLists the named conversations: name, turns, last used.\n",
    ),
    (
        "session-clear",
        "Usage: nanopy session-clear NAME\n\nForgets the conversation NAME: its turns leave the log.\n",
    ),
    (
        "usage",
        "\
Usage: nanopy usage [--since DURATION|DATE] [--json]

Prompt and completion tokens per local day, provider and model, from the log. Turns whose
server reported no usage are counted apart: unknown, not zero.

Options:
      --since X     from X ago (7d, 12h) or from the date X (2026-12-01); default all
      --json        print a JSON array
",
    ),
    (
        "tools",
        "\
Usage: nanopy tools [--refresh]

Lists the registered tools and their parameters: the built-in ones, then those of the MCP
servers in the config (`mcp`), named SERVER__TOOL. MCP tool lists come from a cache that a
turn reads instead of starting the servers.

Options:
      --refresh     start every MCP server and list its tools again, updating the cache
",
    ),
    (
        "config",
        "\
Usage: nanopy config

Shows the paths in use and the effective configuration (every key and token redacted, with
where each key comes from).

Keys of config.json (all optional; relative paths are taken from the data directory, `~`
expands; an unknown key is a warning, a wrong type or range an error naming its line):
  provider               the `default` provider: api_key, base_url (default
                         https://api.openai.com/v1), model (default gpt-4o-mini),
                         timeout_secs (120), max_retries (2)
  providers.NAME         more providers: the keys of `provider`, plus api_key_env (a
                         variable holding the key) and api_key_cmd (a command printing it)
  default_provider       the provider a turn uses (default `default`)
  fallback               providers tried in order when the chosen one fails
  aliases.NAME           {provider, model}: `--model NAME` picks both
  system_prompt          the system prompt every request starts with
  memory_path            memory.json
  scheduler_db_path      jobs.sqlite
  log_path               log.sqlite
  log                    enabled (true), keep_days (90), context_chars (24000)
  limits                 input_bytes (1048576), daily_tokens (none)
  tools.shell            allow (exact command lines the model may run), timeout_secs (30)
  mcp.NAME               an MCP server: command, args, env (stdio) or url, headers (HTTP);
                         tools, disabled, startup_timeout_secs (30), tool_timeout_secs (60)
",
    ),
    (
        "doctor",
        "Usage: nanopy doctor\n\nChecks config, file permissions, stores, time zone, every provider and every MCP server\n(each is started and its tools listed); exit 1 on any problem.\n",
    ),
];

/// The help text of `command`, if it is one.
pub fn command_help(command: &str) -> Option<&'static str> {
    COMMAND_HELP
        .iter()
        .find(|(name, _)| *name == command)
        .map(|(_, help)| *help)
}

/// The static name of a known command (for messages that outlive the arguments).
pub fn canonical(command: &str) -> &'static str {
    COMMAND_HELP
        .iter()
        .find(|(name, _)| *name == command)
        .map_or("", |(name, _)| name)
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Command> {
    // Everything after `--` is a positional argument, even if it starts with `-`.
    let (flags, literal) = match args.iter().position(|arg| arg == "--") {
        Some(at) => (args[..at].to_vec(), args[at + 1..].to_vec()),
        None => (args, Vec::new()),
    };
    let mut args = Arguments::from_vec(flags);
    let subcommand = args
        .subcommand()
        .map_err(|error| Error::Usage(error.to_string()))?;
    let Some(name) = subcommand else {
        if args.contains(["-V", "--version"]) {
            return Ok(Command::Version);
        }
        if args.contains(["-h", "--help"]) || args.clone().finish().is_empty() {
            return Ok(Command::Help(None));
        }
        let rest = args.finish();
        return Err(Error::Usage(format!(
            "unknown option `{}`",
            rest[0].to_string_lossy()
        )));
    };
    // `nanopy help` is `nanopy --help`, `nanopy help CMD` is `nanopy CMD --help`.
    if name == "help" {
        let topic = args
            .finish()
            .first()
            .map(|arg| arg.to_string_lossy().into_owned());
        return match topic {
            None => Ok(Command::Help(None)),
            Some(topic) => match COMMAND_HELP.iter().find(|(known, _)| *known == topic) {
                Some((known, _)) => Ok(Command::Help(Some(known))),
                None => Err(Error::Usage(format!("unknown command `{topic}`"))),
            },
        };
    }
    let Some((name, _)) = COMMAND_HELP.iter().find(|(known, _)| *known == name) else {
        return Err(Error::Usage(format!("unknown command `{name}`")));
    };
    if args.contains(["-h", "--help"]) {
        return Ok(Command::Help(Some(name)));
    }
    let mut parser = Parser {
        args,
        literal,
        command: name,
    };
    parser.command()
}

/// The arguments of one command, consumed flag by flag.
struct Parser {
    args: Arguments,
    literal: Vec<OsString>,
    command: &'static str,
}

impl Parser {
    fn command(&mut self) -> Result<Command> {
        let command = match self.command {
            "agent" => self.agent()?,
            "cron-add" => self.cron_add()?,
            "cron-edit" => self.cron_edit()?,
            "cron-list" => {
                let command = Command::CronList {
                    json: self.flag("--json"),
                };
                self.done(command)?
            }
            "cron-remove" => Command::CronRemove { name: self.one()? },
            "cron-enable" => Command::CronEnable { name: self.one()? },
            "cron-disable" => Command::CronDisable { name: self.one()? },
            "cron-next" => self.cron_next()?,
            "cron-run" => {
                let command = Command::CronRun {
                    once: self.flag("--once"),
                };
                self.done(command)?
            }
            "serve" => self.done(Command::Serve)?,
            "cron-fire" => Command::CronFire { name: self.one()? },
            "cron-history" => {
                let limit = self.number("--limit")?.unwrap_or(20);
                let json = self.flag("--json");
                let name = self.positionals(0, 1)?.pop();
                Command::CronHistory { name, limit, json }
            }
            "memory-get" => Command::MemoryGet { key: self.one()? },
            "memory-set" => {
                let ttl = self.value("--ttl")?;
                let mut values = self.positionals(2, 2)?;
                let value = values.pop().unwrap_or_default();
                let key = values.pop().unwrap_or_default();
                Command::MemorySet { key, value, ttl }
            }
            "memory-delete" => Command::MemoryDelete { key: self.one()? },
            "memory-keys" => self.done(Command::MemoryKeys)?,
            "rules" => self.done(Command::Rules)?,
            "rules-forget" => {
                let text = self.one()?;
                let number = text.parse().map_err(|_| {
                    Error::Usage(format!(
                        "`nanopy rules-forget` takes a rule number from `nanopy rules`, not `{text}`"
                    ))
                })?;
                Command::RulesForget { number }
            }
            "rules-clear" => self.done(Command::RulesClear)?,
            "log" => {
                let command = Command::Log {
                    count: self.number("-n")?.unwrap_or(20),
                    session: self.value("--session")?,
                    job: self.value("--job")?,
                    json: self.flag("--json"),
                };
                self.done(command)?
            }
            "sessions" => {
                let command = Command::Sessions {
                    json: self.flag("--json"),
                };
                self.done(command)?
            }
            "session-clear" => Command::SessionClear { name: self.one()? },
            "usage" => {
                let command = Command::Usage {
                    since: self.value("--since")?,
                    json: self.flag("--json"),
                };
                self.done(command)?
            }
            "tools" => {
                let command = Command::Tools {
                    refresh: self.flag("--refresh"),
                };
                self.done(command)?
            }
            "chat" => {
                let command = Command::Chat(ChatArgs {
                    session: self.value("--session")?,
                    model: self.value("--model")?,
                    provider: self.value("--provider")?,
                    system: self.value(["-s", "--system"])?,
                    no_tools: self.flag("--no-tools"),
                });
                self.done(command)?
            }
            "notify" => Command::Notify {
                words: self.positionals(1, usize::MAX)?,
            },
            "config" => self.done(Command::Config)?,
            "doctor" => self.done(Command::Doctor)?,
            other => return Err(Error::Usage(format!("unknown command `{other}`"))),
        };
        Ok(command)
    }

    /// `agent [MESSAGE...]` and its flags.
    fn agent(&mut self) -> Result<Command> {
        Ok(Command::Agent(AgentArgs {
            model: self.value("--model")?,
            provider: self.value("--provider")?,
            system: self.value(["-s", "--system"])?,
            files: self
                .args
                .values_from_str(["-f", "--file"])
                .map_err(|error| self.error(error))?,
            no_stdin: self.flag("--no-stdin"),
            continue_latest: self.flag(["-c", "--continue"]),
            session: self.value("--session")?,
            json: self.flag("--json"),
            stream: self.flag("--stream"),
            no_tools: self.flag("--no-tools"),
            to: self
                .args
                .values_from_str("--to")
                .map_err(|error| self.error(error))?,
            schema: match (self.value("--schema")?, self.value("--schema-multi")?) {
                (Some(_), Some(_)) => {
                    return Err(Error::Usage(
                        "give `--schema` or `--schema-multi`, not both".into(),
                    ));
                }
                (Some(text), None) => Some((text, false)),
                (None, Some(text)) => Some((text, true)),
                (None, None) => None,
            },
            message: self.positionals(0, usize::MAX)?,
        }))
    }

    /// `cron-add`: a name, a message and a schedule are required.
    fn cron_add(&mut self) -> Result<Command> {
        let name = self.required("--name")?;
        let message = self.required("--message")?;
        let job = self.job_options(Some(message))?;
        if job.when.is_none() {
            return Err(Error::Usage(
                "`nanopy cron-add` needs `--cron`, `--at`, `--in` or `--every`".into(),
            ));
        }
        let command = Command::CronAdd {
            name,
            job,
            replace: self.flag("--replace"),
        };
        self.done(command)
    }

    /// `cron-edit NAME`: at least one change.
    fn cron_edit(&mut self) -> Result<Command> {
        let message = self.value("--message")?;
        let job = self.job_options(message)?;
        if job == JobOptions::default() {
            return Err(Error::Usage(
                "`nanopy cron-edit` needs something to change, like `--message` or `--cron`".into(),
            ));
        }
        Ok(Command::CronEdit {
            name: self.one()?,
            job,
        })
    }

    /// `cron-next EXPR` (or `--at`, `--in`, `--every`).
    fn cron_next(&mut self) -> Result<Command> {
        let count = self.number::<usize>("-n")?.unwrap_or(5);
        let tz = self.value("--tz")?;
        let from = self.value("--from")?;
        let flagged = self.when(false)?;
        let expression = self.positionals(0, 1)?.pop();
        let when = match (flagged, expression) {
            (Some(when), None) => when,
            (None, Some(expression)) => When::Cron(expression),
            (Some(when), Some(_)) => {
                return Err(Error::Usage(format!(
                    "`nanopy cron-next` takes an expression or `{}`, not both",
                    when.flag()
                )));
            }
            (None, None) => {
                return Err(Error::Usage(
                    "`nanopy cron-next` needs an expression, or `--at`, `--in` or `--every`".into(),
                ));
            }
        };
        Ok(Command::CronNext {
            when,
            count,
            tz,
            from,
        })
    }

    /// The options `cron-add` and `cron-edit` share.
    fn job_options(&mut self, message: Option<String>) -> Result<JobOptions> {
        let no_tools = self.flag("--no-tools");
        let tools = self.command == "cron-edit" && self.flag("--tools");
        if no_tools && tools {
            return Err(Error::Usage(
                "`--tools` and `--no-tools` contradict each other".into(),
            ));
        }
        Ok(JobOptions {
            message,
            when: self.when(true)?,
            tz: self.value("--tz")?,
            grace: self.number("--grace")?,
            notify: self.value("--notify")?,
            model: self.value("--model")?,
            tools: (no_tools || tools).then_some(tools),
            session: self.value("--session")?,
            provider: self.value("--provider")?,
            to: Some(
                self.args
                    .values_from_str::<_, String>("--to")
                    .map_err(|error| self.error(error))?,
            )
            .filter(|to| !to.is_empty()),
            notify_on: self.value("--notify-on")?,
            check: self.value("--check")?,
            quiet: self.quiet()?,
            files: Some(
                self.args
                    .values_from_str::<_, String>("--file")
                    .map_err(|error| self.error(error))?,
            )
            .filter(|files| !files.is_empty()),
        })
    }

    /// `--quiet`, and on `cron-edit` `--no-quiet`.
    fn quiet(&mut self) -> Result<Option<bool>> {
        let quiet = self.flag("--quiet");
        let loud = self.command == "cron-edit" && self.flag("--no-quiet");
        if quiet && loud {
            return Err(Error::Usage(
                "`--quiet` and `--no-quiet` contradict each other".into(),
            ));
        }
        Ok((quiet || loud).then_some(quiet))
    }

    /// At most one schedule flag (`--cron` only where `with_cron`).
    fn when(&mut self, with_cron: bool) -> Result<Option<When>> {
        let mut found: Vec<When> = Vec::new();
        if with_cron && let Some(text) = self.value("--cron")? {
            found.push(When::Cron(text));
        }
        if let Some(text) = self.value("--at")? {
            found.push(When::At(text));
        }
        if let Some(text) = self.value("--in")? {
            found.push(When::In(text));
        }
        if let Some(text) = self.value("--every")? {
            found.push(When::Every(text));
        }
        if found.len() > 1 {
            let flags: Vec<&str> = found.iter().map(When::flag).collect();
            return Err(Error::Usage(format!(
                "give one schedule, not `{}`",
                flags.join("` and `")
            )));
        }
        Ok(found.pop())
    }

    fn flag(&mut self, name: impl Into<pico_args::Keys>) -> bool {
        self.args.contains(name)
    }

    fn value(&mut self, name: impl Into<pico_args::Keys>) -> Result<Option<String>> {
        self.args
            .opt_value_from_str(name)
            .map_err(|error| self.error(error))
    }

    fn required(&mut self, name: &'static str) -> Result<String> {
        self.value(name)?
            .ok_or_else(|| Error::Usage(format!("`nanopy {}` needs `{name}`", self.command)))
    }

    fn number<T: std::str::FromStr>(&mut self, name: &'static str) -> Result<Option<T>> {
        match self.value(name)? {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| Error::Usage(format!("`{name}` takes a whole number, not `{text}`"))),
        }
    }

    /// Finishes a command that takes no positional arguments.
    fn done(&mut self, command: Command) -> Result<Command> {
        self.positionals(0, 0)?;
        Ok(command)
    }

    fn one(&mut self) -> Result<String> {
        Ok(self.positionals(1, 1)?.remove(0))
    }

    /// The remaining arguments, which must all be positional, between `min` and `max` of them.
    fn positionals(&mut self, min: usize, max: usize) -> Result<Vec<String>> {
        let rest = std::mem::replace(&mut self.args, Arguments::from_vec(Vec::new())).finish();
        let mut values = Vec::new();
        for arg in rest {
            let text = arg.into_string().map_err(|arg| {
                Error::Usage(format!("argument `{}` is not UTF-8", arg.to_string_lossy()))
            })?;
            if text.starts_with('-') && text != "-" {
                return Err(Error::Usage(format!(
                    "unknown option `{text}` for `nanopy {}`",
                    self.command
                )));
            }
            values.push(text);
        }
        for arg in self.literal.drain(..) {
            values.push(arg.to_string_lossy().into_owned());
        }
        if values.len() < min || values.len() > max {
            let expected = match (min, max) {
                (0, 0) => "no arguments".to_string(),
                (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                (a, b) => format!("{a} to {b} arguments"),
            };
            return Err(Error::Usage(format!(
                "`nanopy {}` takes {expected}, got {}",
                self.command,
                values.len()
            )));
        }
        Ok(values)
    }

    fn error(&self, error: pico_args::Error) -> Error {
        Error::Usage(format!("`nanopy {}`: {error}", self.command))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Command> {
        parse(words.iter().map(OsString::from).collect())
    }

    #[test]
    fn every_listed_command_has_help() {
        for (name, _) in COMMAND_HELP {
            assert!(MAIN_HELP.contains(name), "{name} missing from the overview");
            assert_eq!(
                parse_words(&[name, "--help"]).unwrap(),
                Command::Help(Some(name))
            );
        }
    }

    #[test]
    fn agent_collects_message_words_and_flags() {
        assert_eq!(
            parse_words(&[
                "agent", "--json", "hello", "-f", "a.txt", "world", "--model", "m", "--file", "-",
                "-s", "be terse",
            ])
            .unwrap(),
            Command::Agent(AgentArgs {
                message: vec!["hello".into(), "world".into()],
                model: Some("m".into()),
                system: Some("be terse".into()),
                files: vec!["a.txt".into(), "-".into()],
                json: true,
                ..AgentArgs::default()
            })
        );
    }

    #[test]
    fn unknown_flags_and_commands_are_usage_errors() {
        for words in [
            &["agent", "--bogus", "hi"][..],
            &["frobnicate"],
            &["--bogus"],
            &["cron-add", "--name", "x"],
            &["memory-set", "only-key"],
            &["cron-next", "* * * * *", "-n", "many"],
        ] {
            let error = parse_words(words).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{words:?}: {error}");
        }
    }

    #[test]
    fn double_dash_allows_messages_starting_with_a_dash() {
        match parse_words(&["agent", "--", "-5 degrees?"]).unwrap() {
            Command::Agent(args) => assert_eq!(args.message, vec!["-5 degrees?"]),
            other => panic!("{other:?}"),
        }
    }
}
