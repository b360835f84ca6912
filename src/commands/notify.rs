//! `notify TARGET... [TEXT]` and the delivery of `agent --to`: a person's text sent to targets
//! now, with no outbox and no quiet hours.

use crate::config::{Config, Target, TargetKind};
use crate::deliver::{self, Letter};
use crate::error::{Error, Result};
use std::io::Read;

/// The target a flag or argument names: one of `targets`, or `telegram:<chat id>` (that
/// chat, through the configured bot). An unknown name is exit 2, listing the known ones.
pub fn resolve(config: &Config, name: &str) -> Result<Target> {
    if let Some(target) = config.target(name) {
        return Ok(target.clone());
    }
    if let Some(chat) = name.strip_prefix("telegram:")
        && let Ok(chat) = chat.parse::<i64>()
    {
        return Ok(Target {
            name: name.to_string(),
            kind: TargetKind::Telegram { chat },
        });
    }
    let known: Vec<&str> = config.targets.iter().map(|t| t.name.as_str()).collect();
    Err(Error::Input(format!(
        "unknown target `{name}`; {} (or `telegram:<chat id>`)",
        if known.is_empty() {
            "the config has no `targets`".to_string()
        } else {
            format!("the config has: {}", known.join(", "))
        }
    )))
}

/// Sends `text` to each target; says which did not accept it (exit 1), after trying all.
pub fn send_all(config: &Config, targets: &[Target], text: &str) -> Result<()> {
    let letter = Letter {
        text,
        ..Letter::default()
    };
    let failed: Vec<String> = targets
        .iter()
        .filter_map(|target| {
            deliver::send(config, target, &letter)
                .err()
                .map(|failure| format!("`{}`: {}", target.name, failure.text()))
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::Failed(format!(
            "not delivered to {}",
            failed.join("; ")
        )))
    }
}

/// `notify`: the leading words that name targets, then the text (or stdin).
pub fn run(config: &Config, words: &[String]) -> Result<()> {
    let mut targets = Vec::new();
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        match resolve(config, first) {
            Ok(target) => targets.push(target),
            Err(error) if targets.is_empty() => return Err(error),
            Err(_) => break,
        }
        rest = tail;
    }
    let text = if rest.is_empty() {
        let mut text = String::new();
        std::io::stdin()
            .take(config.input_bytes + 1)
            .read_to_string(&mut text)
            .map_err(|error| Error::Input(format!("cannot read stdin: {error}")))?;
        text
    } else {
        rest.join(" ")
    };
    if text.trim().is_empty() {
        return Err(Error::Usage(
            "`nanopy notify` needs a text, as arguments after the targets or on stdin".into(),
        ));
    }
    send_all(config, &targets, &text)
}
