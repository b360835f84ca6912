//! The command line: arguments → [`Command`], and the help texts. No I/O happens here.

use crate::error::{Error, Result};
use pico_args::Arguments;
use std::ffi::OsString;

/// One parsed invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Print help: the overview, or one command's.
    Help(Option<&'static str>),
    Version,
    Agent {
        /// The message words; empty or `-` means stdin.
        message: Vec<String>,
        model: Option<String>,
        json: bool,
        stream: bool,
        no_tools: bool,
    },
    CronAdd {
        job: JobOptions,
        replace: bool,
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
        expression: String,
        count: usize,
        tz: Option<String>,
        from: Option<String>,
    },
    CronRun {
        once: bool,
    },
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
    RulesClear,
    Tools,
    Config,
    Doctor,
}

/// A job as given on the command line, before defaults are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOptions {
    pub name: String,
    pub message: String,
    pub cron: String,
    pub tz: Option<String>,
    pub grace: Option<i64>,
    pub notify: Option<String>,
}

/// The overview printed by `nanopy --help`.
pub const MAIN_HELP: &str = "\
nanopy — a small command-line AI agent with learned rules, memory and a cron scheduler

Usage: nanopy <COMMAND> [ARGS...]

Agent:
  agent [MESSAGE...]        one agent turn (message from stdin when absent or `-`)
  rules                     list the learned feedback rules
  rules-clear               forget the learned rules
  tools                     list the tools and their parameters

Memory:
  memory-get KEY            print a value
  memory-set KEY VALUE      store a value (JSON if it parses, else a string)
  memory-delete KEY         remove a key
  memory-keys               list the keys

Scheduler:
  cron-add                  store a scheduled agent job
  cron-list                 list the jobs
  cron-remove NAME          remove a job
  cron-enable NAME          enable a job
  cron-disable NAME         disable a job
  cron-next EXPR            print the next fire times of an expression
  cron-run [--once]         run the scheduler
  cron-fire NAME            run a job now
  cron-history [NAME]       past runs

Setup:
  config                    show the files in use and the effective configuration
  doctor                    check config, files, stores, time zone and provider

Options:
  -h, --help                print help (also `nanopy <COMMAND> --help`)
  -V, --version             print the version

Exit codes: 0 ok, 1 failure, 2 usage or invalid input, 3 local state problem, 4 provider failure.
Data directory: $NANOPYBOT_HOME, else ~/.nanopybot.
";

/// Each command's name and help text.
const COMMAND_HELP: &[(&str, &str)] = &[
    (
        "agent",
        "\
Usage: nanopy agent [OPTIONS] [MESSAGE...]

Sends one turn to the provider and prints the reply. Without MESSAGE, or with `-`, the
message is read from stdin. `tool:<name> <json>` runs a tool locally with no provider call.
Feedback such as \"from now on answer in English\" or \"rule: …\" is learned as a rule.

Options:
      --model M     use model M instead of the configured one
      --json        print one JSON object: reply, tool_calls, rule_learned, model, usage
      --stream      print the reply as it arrives
      --no-tools    offer no tools to the model
  -h, --help        print this help
",
    ),
    (
        "cron-add",
        "\
Usage: nanopy cron-add --name N --message M --cron EXPR [OPTIONS]

Stores a job that runs an agent turn with message M on schedule EXPR, and prints its next
fire time. EXPR is a 5-field crontab expression (minute hour day-of-month month day-of-week),
6 fields with seconds first, or @yearly @monthly @weekly @daily @hourly.

Options:
      --tz ZONE        IANA time zone of the schedule (default: the system zone)
      --grace SECS     run a fire missed by at most SECS after downtime (default 600)
      --notify CMD     run `sh -c CMD` after each run, with the reply on stdin
      --replace        replace a job of the same name
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
Usage: nanopy cron-next EXPR [-n N] [--tz ZONE] [--from RFC3339]

Prints the next N (default 5) fire times of EXPR, one RFC 3339 timestamp per line.

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
        "Usage: nanopy rules\n\nLists the learned feedback rules, oldest first.\n",
    ),
    (
        "rules-clear",
        "Usage: nanopy rules-clear\n\nForgets every learned rule.\n",
    ),
    (
        "tools",
        "Usage: nanopy tools\n\nLists the registered tools and their parameters.\n",
    ),
    (
        "config",
        "Usage: nanopy config\n\nShows the paths in use and the effective configuration (API key redacted).\n",
    ),
    (
        "doctor",
        "Usage: nanopy doctor\n\nChecks config, file permissions, stores, time zone and provider; exit 1 on any problem.\n",
    ),
];

/// The help text of `command`, if it is one.
pub fn command_help(command: &str) -> Option<&'static str> {
    COMMAND_HELP
        .iter()
        .find(|(name, _)| *name == command)
        .map(|(_, help)| *help)
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
            "agent" => Command::Agent {
                model: self.value("--model")?,
                json: self.flag("--json"),
                stream: self.flag("--stream"),
                no_tools: self.flag("--no-tools"),
                message: self.positionals(0, usize::MAX)?,
            },
            "cron-add" => {
                let job = JobOptions {
                    name: self.required("--name")?,
                    message: self.required("--message")?,
                    cron: self.required("--cron")?,
                    tz: self.value("--tz")?,
                    grace: self.number("--grace")?,
                    notify: self.value("--notify")?,
                };
                let command = Command::CronAdd {
                    job,
                    replace: self.flag("--replace"),
                };
                self.done(command)?
            }
            "cron-list" => {
                let command = Command::CronList {
                    json: self.flag("--json"),
                };
                self.done(command)?
            }
            "cron-remove" => Command::CronRemove { name: self.one()? },
            "cron-enable" => Command::CronEnable { name: self.one()? },
            "cron-disable" => Command::CronDisable { name: self.one()? },
            "cron-next" => {
                let count = self.number::<usize>("-n")?.unwrap_or(5);
                let tz = self.value("--tz")?;
                let from = self.value("--from")?;
                Command::CronNext {
                    expression: self.one()?,
                    count,
                    tz,
                    from,
                }
            }
            "cron-run" => {
                let command = Command::CronRun {
                    once: self.flag("--once"),
                };
                self.done(command)?
            }
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
            "rules-clear" => self.done(Command::RulesClear)?,
            "tools" => self.done(Command::Tools)?,
            "config" => self.done(Command::Config)?,
            "doctor" => self.done(Command::Doctor)?,
            other => return Err(Error::Usage(format!("unknown command `{other}`"))),
        };
        Ok(command)
    }

    fn flag(&mut self, name: &'static str) -> bool {
        self.args.contains(name)
    }

    fn value(&mut self, name: &'static str) -> Result<Option<String>> {
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
            parse_words(&["agent", "--json", "hello", "world", "--model", "m"]).unwrap(),
            Command::Agent {
                message: vec!["hello".into(), "world".into()],
                model: Some("m".into()),
                json: true,
                stream: false,
                no_tools: false,
            }
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
            Command::Agent { message, .. } => assert_eq!(message, vec!["-5 degrees?"]),
            other => panic!("{other:?}"),
        }
    }
}
