//! `ping` targets, the healthchecks.io convention of a dead-man switch: `URL/start` when a
//! run starts; `URL` (ok, quiet, or a person's message) or `URL/fail` (failed, missed,
//! interrupted) with the first 10 240 bytes of the text when it ends.

use super::{Failure, Letter, http, http_get};

/// The most text a ping carries.
const MAX_PING_BYTES: usize = 10_240;

pub fn start(url: &str) -> Result<(), Failure> {
    http_get(crate::http::http_agent().get(format!("{url}/start")))
}

pub fn finish(url: &str, letter: &Letter) -> Result<(), Failure> {
    let url = if letter.is_bad_news() {
        format!("{url}/fail")
    } else {
        url.to_string()
    };
    let mut end = letter.text.len().min(MAX_PING_BYTES);
    while !letter.text.is_char_boundary(end) {
        end -= 1;
    }
    http(
        crate::http::http_agent().post(url),
        &letter.text.as_bytes()[..end],
    )
}
