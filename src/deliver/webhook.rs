//! `webhook` targets: a JSON document POSTed with the target's headers; any 2xx is success.

use super::{Failure, Letter, http};
use std::collections::BTreeMap;

pub fn send(url: &str, headers: &BTreeMap<String, String>, letter: &Letter) -> Result<(), Failure> {
    let zone = crate::zone::system_zone_name();
    let body = serde_json::json!({
        "job": letter.job,
        "status": letter.status,
        "scheduled_at": crate::zone::time_in_zone(letter.scheduled_at, &zone),
        "started_at": crate::zone::time_in_zone(letter.started_at, &zone),
        "text": letter.text,
        "host": super::hostname(),
    });
    let mut request = crate::http::http_agent()
        .post(url)
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    http(request, body.to_string().as_bytes())
}
