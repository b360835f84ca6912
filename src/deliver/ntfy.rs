//! `ntfy` targets: the text POSTed to the topic URL, with a title, a priority and tags.

use super::{Failure, Letter, http, mime};
use crate::config::Secret;

pub fn send(
    url: &str,
    token: Option<&Secret>,
    priority: Option<&str>,
    tags: Option<&str>,
    letter: &Letter,
) -> Result<(), Failure> {
    // High for failed and missed runs only (SPEC §12); an interrupted run pings /fail but
    // is not urgent news on a phone.
    let priority = if matches!(letter.status, Some("failed" | "missed")) {
        "high"
    } else {
        priority.unwrap_or("default")
    };
    let mut request = crate::http::http_agent()
        .post(url)
        .header("Title", mime::header_text(&letter.title()))
        .header("Priority", priority);
    if let Some(tags) = tags {
        request = request.header("Tags", tags);
    }
    if let Some(token) = token.filter(|token| !token.value.is_empty()) {
        request = request.header("Authorization", format!("Bearer {}", token.value));
    }
    http(request, letter.text.as_bytes())
}
