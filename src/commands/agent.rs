//! `agent`: one turn from the command line: the message and what comes with it (stdin,
//! files, pages), printed as text, as a stream, or as JSON.

use crate::agent::{Agent, TurnOptions};
use crate::cli::AgentArgs;
use crate::config::Config;
use crate::conversation::Continuation;
use crate::error::{Error, Result};
use crate::http;
use crate::input::{self, Piece};
use crate::json_shape;
use crate::output;
use crate::tools::Caller;
use std::io::{IsTerminal, Read};
use std::path::Path;

/// Runs a turn for the message words (stdin when empty or `-`) and prints the reply.
pub fn turn(config: &Config, args: AgentArgs) -> Result<()> {
    // A SIGTERM or Ctrl-C mid-turn must not leave an MCP server running.
    crate::process_group::kill_groups_on_signals();
    let message_from_stdin = args.message.is_empty() || args.message == ["-"];
    let message = if message_from_stdin {
        read_stdin(config.input_bytes)?
    } else {
        args.message.join(" ")
    };
    if message.trim().is_empty() {
        return Err(Error::Usage(
            "`nanopy agent` needs a message, as arguments or on stdin".into(),
        ));
    }
    let continuation = match (args.continue_latest, args.session.clone()) {
        (true, Some(_)) => {
            return Err(Error::Usage(
                "`-c` continues the latest conversation and `--session` a named one: give one"
                    .into(),
            ));
        }
        (true, None) => Continuation::Latest,
        (false, Some(name)) => {
            crate::names::check_name("session", &name)?;
            Continuation::Named(name)
        }
        (false, None) => Continuation::New,
    };
    // Targets are checked before the turn: an unknown one is exit 2 with nothing asked.
    let targets = args
        .to
        .iter()
        .map(|name| super::notify::resolve(config, name))
        .collect::<Result<Vec<_>>>()?;
    let schema = args
        .schema
        .as_ref()
        .map(|(text, multi)| schema_of(text, *multi))
        .transpose()?;
    let input = gather(config, &args, message_from_stdin, &message)?;
    let options = TurnOptions {
        continuation,
        model: args.model,
        provider: args.provider,
        stream: args.stream,
        no_tools: args.no_tools,
        system: args.system,
        input,
        schema,
        ..TurnOptions::default()
    };
    let json = args.json;
    // Streamed text goes out as it arrives, except under --json, which prints one document.
    let mut printed = false;
    let mut print_error = None;
    let mut on_text = |text: &str| {
        if !json && print_error.is_none() {
            printed = true;
            print_error = output::write(text).err();
        }
    };
    let turn = Agent::new(config, Caller::User).turn(&message, &options, &mut on_text)?;
    if let Some(error) = print_error {
        return Err(error);
    }
    // A rule is shown as it is learned, one command away from undone: a false one must not
    // hide in every later answer.
    if let (Some(rule), Some(number)) = (&turn.rule_learned, turn.rule_number) {
        let undo = format!("nanopy rules-forget {number}");
        eprintln!(
            "note: {}",
            crate::rules::learned_note(rule, number, &turn.rules_replaced, &undo)
        );
    }
    if json {
        output::json(&json_shape::turn(&turn))?;
    } else if printed {
        output::line("")?;
    } else {
        output::line(&turn.reply)?;
    }
    // The reply is printed first: a target that does not take it costs a warning and exit 1,
    // never the answer.
    if let Err(error) = super::notify::send_all(config, &targets, &turn.reply) {
        crate::notice::warning(&error.to_string());
        return Err(Error::Failed(
            "the reply was not delivered to every target".into(),
        ));
    }
    Ok(())
}

/// `--schema`'s JSON Schema: inline, from `@FILE`, or the concise form (exit 2 if unusable).
fn schema_of(text: &str, multi: bool) -> Result<serde_json::Value> {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|error| {
            Error::Input(format!("cannot read the schema file `{path}`: {error}"))
        })?,
        None => text.to_string(),
    };
    crate::schema::parse(&text, multi).map_err(|why| Error::Input(format!("--schema: {why}")))
}

/// The input that comes with the message: stdin when it is piped (not a terminal, not
/// `--no-stdin`, not already the message), then each `-f` in order; at most
/// `limits.input_bytes` in all.
fn gather(
    config: &Config,
    args: &AgentArgs,
    message_from_stdin: bool,
    message: &str,
) -> Result<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut stdin_taken = message_from_stdin;
    let stdin_piped = !std::io::stdin().is_terminal();
    if !stdin_taken && !args.no_stdin && stdin_piped && !args.files.iter().any(|f| f == "-") {
        stdin_taken = true;
        let text = read_stdin(config.input_bytes)?;
        if !text.is_empty() {
            pieces.push(Piece {
                source: "stdin".into(),
                text,
                image: None,
            });
        }
    }
    for file in &args.files {
        let piece = if file == "-" {
            if stdin_taken {
                return Err(Error::Usage(
                    "stdin can be read once: it is already the message or an input".into(),
                ));
            }
            stdin_taken = true;
            Piece {
                source: "stdin".into(),
                text: read_stdin(config.input_bytes)?,
                image: None,
            }
        } else if file.starts_with("http://") || file.starts_with("https://") {
            let page = http::fetch_page(
                &config.provider,
                file,
                config.input_bytes + 1,
                config.image_bytes,
            )?;
            match page.image {
                Some(bytes) => input::image_piece(
                    &bytes,
                    &page.media_type,
                    &format!("url {file}"),
                    config.image_bytes,
                )?,
                None => Piece {
                    source: format!("url {file}"),
                    text: if page.media_type.contains("html") {
                        input::html_to_text(&page.text)
                    } else {
                        page.text
                    },
                    image: None,
                },
            }
        } else {
            input::read_file(Path::new(file), config.image_bytes)?
        };
        pieces.push(piece);
        input::check_size(&pieces, message, config.input_bytes)?;
    }
    input::check_size(&pieces, message, config.input_bytes)?;
    Ok(pieces)
}

/// How far past the limit an over-long stdin is read (and thrown away) to say how long it was;
/// an endless pipe (`yes |`) is cut there rather than read forever.
const MEASURE_OVER_LIMIT: u64 = 64 * 1024 * 1024;

/// Reads stdin, refusing more than `limit` bytes without holding more than that in memory.
fn read_stdin(limit: u64) -> Result<String> {
    let mut stdin = std::io::stdin().lock();
    let mut bytes = Vec::new();
    (&mut stdin)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| Error::Input(format!("cannot read stdin: {error}")))?;
    if bytes.len() as u64 > limit {
        let rest =
            std::io::copy(&mut stdin.take(MEASURE_OVER_LIMIT), &mut std::io::sink()).unwrap_or(0);
        let total = bytes.len() as u64 + rest;
        let size = if rest == MEASURE_OVER_LIMIT {
            format!("more than {total} bytes")
        } else {
            format!("{total} bytes, {} over the limit of {limit}", total - limit)
        };
        return Err(Error::Input(format!(
            "stdin is {size} (`limits.input_bytes` in the config)"
        )));
    }
    input::text_of(bytes, "stdin")
}
