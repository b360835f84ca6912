//! `memory-get`, `memory-set`, `memory-delete`, `memory-keys`, `rules`, `rules-clear`.

use crate::clock::now;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::memory::{self, Memory};
use crate::output;
use crate::rules as learned;
use serde_json::Value;

/// `memory-get KEY`: strings as they are, other values as JSON.
pub fn get(config: &Config, key: &str) -> Result<()> {
    match Memory::open(&config.memory_path).get(key, now())? {
        Some(Value::String(text)) => output::line(&text),
        Some(value) => output::line(&value.to_string()),
        None => Err(no_key(key)),
    }
}

/// `memory-set KEY VALUE [--ttl DURATION]`.
pub fn set(config: &Config, key: &str, value: String, ttl: Option<String>) -> Result<()> {
    let ttl = ttl.as_deref().map(memory::parse_duration).transpose()?;
    // A value that parses as JSON is stored as JSON, anything else as a string.
    let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
    Memory::open(&config.memory_path).set(key, value, ttl, now())
}

/// `memory-delete KEY`.
pub fn delete(config: &Config, key: &str) -> Result<()> {
    if Memory::open(&config.memory_path).delete(key, now())? {
        Ok(())
    } else {
        Err(no_key(key))
    }
}

/// `memory-keys`.
pub fn keys(config: &Config) -> Result<()> {
    let keys = Memory::open(&config.memory_path).keys(now())?;
    if keys.is_empty() {
        // On stderr: a script reading the keys from stdout gets none.
        eprintln!("note: the memory is empty (store a value with `nanopy memory-set KEY VALUE`)");
    }
    for key in keys {
        output::line(&key)?;
    }
    Ok(())
}

/// `rules`: the learned rules, oldest first, numbered as `rules-forget` takes them.
pub fn rules(config: &Config) -> Result<()> {
    let rules = learned::list(&Memory::open(&config.memory_path), now())?;
    if rules.is_empty() {
        eprintln!(
            "note: no rules learned yet (say one with `nanopy agent \"rule: answer briefly\"`, \
             or \"from now on …\")"
        );
    }
    for rule in &rules {
        output::line(&format!("{}. {}", rule.number, rule.text))?;
    }
    Ok(())
}

/// `rules-forget N`.
pub fn rules_forget(config: &Config, number: u64) -> Result<()> {
    let rule = learned::forget(&Memory::open(&config.memory_path), number, now())?;
    output::line(&format!("forgot rule {number}: {rule}"))
}

/// `rules-clear`.
pub fn rules_clear(config: &Config) -> Result<()> {
    let count = learned::clear(&Memory::open(&config.memory_path), now())?;
    output::line(&format!("forgot {count} rule(s)"))
}

fn no_key(key: &str) -> Error {
    Error::Failed(format!("no memory key `{key}`"))
}
