//! Sending to a Telegram chat through the configured bot (the Bot API's `sendMessage`): plain
//! text, no parse mode, split into messages of at most 4096 characters as Telegram counts them
//! (UTF-16 code units), each filled with whole lines, in order. `serve`'s bot reuses this.

use super::{Failure, Letter};
use crate::config::Config;
use serde_json::Value;
use std::time::Duration;

/// The longest message Telegram accepts, in UTF-16 code units.
pub const MAX_MESSAGE_UNITS: usize = 4096;

/// Sends a delivery to `chat`. A job's run is introduced by its title line.
pub fn deliver(config: &Config, chat: i64, letter: &Letter) -> Result<(), Failure> {
    let text = match letter.status {
        Some(_) => format!("{}\n{}", letter.title(), letter.text),
        None => letter.text.to_string(),
    };
    send_text(config, chat, &text)
}

/// Sends `text` to `chat`, split as Telegram needs.
pub fn send_text(config: &Config, chat: i64, text: &str) -> Result<(), Failure> {
    let (url, _) = bot_url(config, "sendMessage")?;
    let agent = crate::http::http_agent();
    for piece in split(text, MAX_MESSAGE_UNITS) {
        let body = serde_json::json!({"chat_id": chat, "text": piece});
        let response = agent
            .post(&url)
            .header("Content-Type", "application/json")
            .config()
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .send(body.to_string().as_bytes());
        // The token is part of the URL: transport errors are worded without it.
        let mut response = response.map_err(|error| Failure::Retry {
            error: format!("Telegram: {}", crate::http::describe_transport(&error)),
            after: None,
        })?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            continue;
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let answer: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let retry_after = answer["parameters"]["retry_after"]
            .as_u64()
            .map(Duration::from_secs);
        let description = answer["description"].as_str().unwrap_or("");
        return super::judge(status, retry_after, &format!("Telegram: {description}"));
    }
    Ok(())
}

/// The bot's `@username`, from `getMe`: whether the token works, without sending anything.
pub fn bot_name(config: &Config) -> Result<String, Failure> {
    let (url, token) = bot_url(config, "getMe")?;
    let response = crate::http::http_agent()
        .get(&url)
        .config()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .call();
    let mut response = response.map_err(|error| Failure::Retry {
        error: format!("Telegram: {}", crate::http::describe_transport(&error)),
        after: None,
    })?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default()
        .replace(&token, "…");
    let answer: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    match answer["result"]["username"].as_str() {
        Some(name) if status == 200 => Ok(format!("@{name}")),
        _ if status == 401 => Err(Failure::Permanent(
            "the bot token was refused (HTTP 401)".into(),
        )),
        _ => Err(Failure::Permanent(format!(
            "getMe answered HTTP {status}: {}",
            answer["description"]
                .as_str()
                .unwrap_or("not a Bot API answer")
        ))),
    }
}

/// `{api_url}/bot<token>/<method>` and the token, or why there is no bot to call.
fn bot_url(config: &Config, method: &str) -> Result<(String, String), Failure> {
    let Some(bot) = &config.telegram else {
        return Err(Failure::Permanent(
            "no Telegram bot is configured (`telegram` in the config)".into(),
        ));
    };
    let token = bot.token.as_ref().map_or("", |token| token.value.as_str());
    if token.is_empty() {
        return Err(Failure::Permanent(format!(
            "the Telegram bot has no token {}",
            bot.token
                .as_ref()
                .map_or("(set `token` or `token_env`)", |t| t.source.as_str())
        )));
    }
    Ok((
        format!("{}/bot{token}/{method}", bot.api_url),
        token.to_string(),
    ))
}

/// Splits `text` into pieces of at most `max` UTF-16 code units: whole lines as far as they
/// fit, a single longer line cut at a character boundary.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let units = |s: &str| s.encode_utf16().count();
    let mut pieces = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if units(&current) + units(line) <= max {
            current.push_str(line);
            continue;
        }
        if !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        if units(line) <= max {
            current.push_str(line);
            continue;
        }
        // A line longer than a message: cut it where a message is full.
        let mut used = 0;
        for c in line.chars() {
            if used + c.len_utf16() > max {
                pieces.push(std::mem::take(&mut current));
                used = 0;
            }
            used += c.len_utf16();
            current.push(c);
        }
    }
    if !current.is_empty() || pieces.is_empty() {
        pieces.push(current);
    }
    pieces
        .into_iter()
        .map(|piece| match piece.strip_suffix('\n') {
            Some(trimmed) if !trimmed.is_empty() => trimmed.to_string(),
            _ => piece,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_split_on_line_boundaries_in_order() {
        let line = "x".repeat(99);
        let text = vec![line.as_str(); 100].join("\n"); // 100 lines of 100 with newlines
        let pieces = split(&text, 4096);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.encode_utf16().count() <= 4096));
        assert_eq!(pieces.join("\n"), text);
        assert!(pieces.iter().all(|p| p.split('\n').all(|l| l.len() == 99)));
    }

    #[test]
    fn units_are_counted_as_telegram_counts_them() {
        // An emoji is two UTF-16 units: 3000 of them fill two messages.
        let text = "😀".repeat(3000);
        let pieces = split(&text, 4096);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].chars().count(), 2048);
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn short_text_is_one_message() {
        assert_eq!(split("hello", 4096), ["hello"]);
        assert_eq!(split("", 4096), [""]);
    }
}
