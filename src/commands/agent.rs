//! `agent`: one turn from the command line, printed as text, as a stream, or as JSON.

use crate::agent::{self, TurnOptions};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::json_shape;
use crate::output;
use crate::tools::Caller;
use std::io::Read;

/// Runs a turn for the message `words` (stdin when empty or `-`) and prints the reply.
pub fn turn(
    config: &Config,
    words: Vec<String>,
    model: Option<String>,
    json: bool,
    stream: bool,
    no_tools: bool,
) -> Result<()> {
    let message = if words.is_empty() || words == ["-"] {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| {
                Error::Input(format!("cannot read the message from stdin: {error}"))
            })?;
        text
    } else {
        words.join(" ")
    };
    if message.trim().is_empty() {
        return Err(Error::Usage(
            "`nanopy agent` needs a message, as arguments or on stdin".into(),
        ));
    }
    let options = TurnOptions {
        model,
        stream,
        no_tools,
        caller: Caller::User,
    };
    // Streamed text goes out as it arrives, except under --json, which prints one document.
    let mut printed = false;
    let mut print_error = None;
    let mut on_text = |text: &str| {
        if !json && print_error.is_none() {
            printed = true;
            print_error = output::write(text).err();
        }
    };
    let turn = agent::run(config, &message, &options, &mut on_text)?;
    if let Some(error) = print_error {
        return Err(error);
    }
    if json {
        output::json(&json_shape::turn(&turn))
    } else if printed {
        output::line("")
    } else {
        output::line(&turn.reply)
    }
}
