//! `chat`: a conversation of many turns with one agent, so MCP servers and key commands are
//! set up at most once (SPEC §13). Each line is a turn in one session (`--session NAME`, or a
//! new `chat-<local time>`); slash commands act without the model. This is the line mode:
//! one message per line (empty lines skipped), each reply followed by an empty line; on a
//! terminal the same loop runs with a `> ` prompt and the terminal's own line editing.

use crate::agent::{Agent, TurnOptions};
use crate::cli::ChatArgs;
use crate::clock;
use crate::config::Config;
use crate::conversation::Continuation;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::memory::Memory;
use crate::output;
use crate::rules;
use crate::tools::Caller;
use std::io::{BufRead, IsTerminal, Write};

/// What a typed line asks for.
#[derive(Debug, PartialEq)]
enum Line {
    Message(String),
    Help,
    New,
    Session(String),
    Model(String),
    Rules,
    Forget(u64),
    Tools,
    Exit,
    Unknown(String),
}

/// Reads a typed line: a slash command or a message. Pure.
fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let Some(command) = line.strip_prefix('/') else {
        return Some(Line::Message(line.to_string()));
    };
    let (name, rest) = command
        .split_once(char::is_whitespace)
        .map_or((command, ""), |(name, rest)| (name, rest.trim()));
    Some(match (name, rest) {
        ("help", _) => Line::Help,
        ("new", _) => Line::New,
        ("session", name) if !name.is_empty() => Line::Session(name.to_string()),
        ("model", model) if !model.is_empty() => Line::Model(model.to_string()),
        ("rules", _) => Line::Rules,
        ("forget", number) => match number.parse() {
            Ok(number) => Line::Forget(number),
            Err(_) => Line::Unknown(line.to_string()),
        },
        ("tools", _) => Line::Tools,
        ("exit" | "quit", _) => Line::Exit,
        _ => Line::Unknown(line.to_string()),
    })
}

const HELP: &str = "\
/help           this list
/new            start a fresh session
/session NAME   continue (or start) the session NAME
/model M        use model M (or an alias) from now on
/rules          the learned rules
/forget N       forget rule N
/tools          the tools the model may call
/exit           leave (or Ctrl-D)";

/// `chat`: turns until `/exit` or the end of input.
pub fn run(config: &Config, args: ChatArgs) -> Result<()> {
    // Chat needs its history (SPEC §13).
    if !config.log.enabled {
        return Err(Error::Usage(
            "`nanopy chat` keeps its conversation in the log, which the config turns off \
             (`\"log\": {\"enabled\": false}`)"
                .into(),
        ));
    }
    crate::process_group::kill_groups_on_signals();
    let terminal = std::io::stdin().is_terminal();
    let mut session = match &args.session {
        Some(name) => {
            crate::names::check_name("session", name)?;
            name.clone()
        }
        None => fresh_session(config)?,
    };
    let mut options = TurnOptions {
        model: args.model,
        provider: args.provider,
        system: args.system,
        no_tools: args.no_tools,
        stream: true,
        ..TurnOptions::default()
    };
    let mut agent = Agent::new(config, Caller::User);
    if terminal {
        eprintln!("nanopy chat, session `{session}`; /help for commands, Ctrl-D to leave");
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if terminal {
            eprint!("> ");
            let _ = std::io::stderr().flush();
        }
        let Some(line) = lines.next() else {
            break;
        };
        let line = line.map_err(|error| Error::Input(format!("cannot read stdin: {error}")))?;
        let Some(line) = parse_line(&line) else {
            continue;
        };
        match line {
            Line::Exit => break,
            Line::Help => output::line(HELP)?,
            Line::New => {
                session = fresh_session(config)?;
                output::line(&format!("new session `{session}`"))?;
            }
            Line::Session(name) => {
                crate::names::check_name("session", &name)?;
                output::line(&format!("session `{name}`"))?;
                session = name;
            }
            Line::Model(model) => {
                config.route(options.provider.as_deref(), Some(&model))?;
                output::line(&format!("model `{model}` from now on"))?;
                options.model = Some(model);
            }
            Line::Rules => {
                let rules = rules::list(&Memory::open(&config.memory_path), clock::now())?;
                if rules.is_empty() {
                    output::line("no rules learned yet")?;
                }
                for rule in rules {
                    output::line(&format!("{}. {}", rule.number, rule.text))?;
                }
            }
            Line::Forget(number) => {
                match rules::forget(&Memory::open(&config.memory_path), number, clock::now()) {
                    Ok(rule) => output::line(&format!("forgot rule {number}: {rule}"))?,
                    Err(error) => output::line(&format!("{error}"))?,
                }
            }
            Line::Tools => {
                let names: Vec<&str> = agent.registry().iter().map(|tool| tool.name()).collect();
                output::line(&names.join(", "))?;
            }
            Line::Unknown(text) => output::line(&format!("unknown command `{text}` (/help)"))?,
            Line::Message(message) => {
                options.continuation = Continuation::Named(session.clone());
                turn(&mut agent, &message, &options)?;
            }
        }
    }
    Ok(())
}

/// One turn: the reply streams as it arrives, then an empty line. A failed turn is said and
/// the chat goes on.
fn turn(agent: &mut Agent, message: &str, options: &TurnOptions) -> Result<()> {
    let mut printed = false;
    let mut failure = None;
    let result = agent.turn(message, options, &mut |text| {
        printed = true;
        if failure.is_none() {
            failure = output::write(text).err();
        }
    });
    if let Some(error) = failure {
        return Err(error);
    }
    match result {
        Ok(turn) => {
            if let (Some(rule), Some(number)) = (&turn.rule_learned, turn.rule_number) {
                let undo = format!("/forget {number}");
                eprintln!(
                    "note: {}",
                    rules::learned_note(rule, number, &turn.rules_replaced, &undo)
                );
            }
            if !printed {
                output::write(&turn.reply)?;
            }
            output::write("\n\n")
        }
        Err(Error::BrokenPipe) => Err(Error::BrokenPipe),
        Err(error) => {
            eprintln!("error: {error}");
            Ok(())
        }
    }
}

/// `chat-<local time to the second>`, with `-2`, `-3` … when that name is taken.
fn fresh_session(config: &Config) -> Result<String> {
    let stamp = jiff::Timestamp::now()
        .to_zoned(crate::zone::local())
        .strftime("chat-%Y-%m-%dT%H:%M:%S")
        .to_string();
    let taken: Vec<String> = Log::open(&config.log.path)?
        .sessions()?
        .into_iter()
        .map(|session| session.name)
        .collect();
    let mut name = stamp.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{stamp}-{n}");
        n += 1;
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_messages_or_slash_commands() {
        assert_eq!(parse_line("  "), None);
        assert_eq!(parse_line(" hello "), Some(Line::Message("hello".into())));
        assert_eq!(parse_line("/forget 3"), Some(Line::Forget(3)));
        assert_eq!(
            parse_line("/session work"),
            Some(Line::Session("work".into()))
        );
        assert_eq!(
            parse_line("/model smart"),
            Some(Line::Model("smart".into()))
        );
        assert_eq!(parse_line("/exit"), Some(Line::Exit));
        assert_eq!(
            parse_line("/forget x"),
            Some(Line::Unknown("/forget x".into()))
        );
        assert_eq!(
            parse_line("/session"),
            Some(Line::Unknown("/session".into()))
        );
    }
}
