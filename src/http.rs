//! The HTTP client settings every outgoing request shares (our user agent, proxies from the
//! environment, rustls with bundled roots, error statuses as answers), fetching a page, and
//! the wording of transport failures. Used by the provider client, MCP over HTTP and `-f URL`.

use crate::config::ProviderConfig;
use crate::error::{Error, Result};
use std::time::Duration;

/// The one way we build an HTTP client: our user agent, proxies from the environment
/// (`HTTPS_PROXY`, `NO_PROXY`), rustls with bundled roots, and error statuses returned as
/// answers, because the server's own message is what the user needs.
pub fn http_agent() -> ureq::Agent {
    agent_config().build().new_agent()
}

fn agent_config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(concat!("nanopy/", env!("CARGO_PKG_VERSION")))
}

/// A client that follows no redirect: the provider's (a POST with the key must not wander
/// off, and the answer says where it pointed, so the user can fix `base_url`, SPEC §6) and
/// MCP over HTTP.
pub fn no_redirect_agent() -> ureq::Agent {
    agent_config().max_redirects(0).build().new_agent()
}

/// A page fetched for `-f URL`: its media type and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub media_type: String,
    pub text: String,
}

/// Fetches `url` for a turn's input with the provider's HTTP client settings: the same
/// proxies and TLS, `timeout_secs` for the whole fetch, at most `limit` bytes. It carries no
/// API key: the key belongs to the provider, not to whatever page is named. Every failure is
/// an input error (exit 2) naming the URL.
pub fn fetch_page(config: &ProviderConfig, url: &str, limit: u64) -> Result<Page> {
    let fail =
        |why: String| Error::Input(format!("cannot fetch `{}`: {why}", redact_userinfo(url)));
    let timeout = Duration::from_secs(config.timeout_secs.max(1));
    let mut response = http_agent()
        .get(url)
        .config()
        .timeout_global(Some(timeout))
        .build()
        .call()
        .map_err(|error| fail(describe_transport(&error)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(
            format!(
                "HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
            .trim_end()
            .to_string(),
        ));
    }
    let media_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let texty = media_type.is_empty()
        || media_type.starts_with("text/")
        || ["json", "xml", "javascript", "yaml", "toml"]
            .iter()
            .any(|kind| media_type.contains(kind));
    if !texty {
        return Err(fail(format!("it is `{media_type}`, not text")));
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|error| match error {
            ureq::Error::BodyExceedsLimit(_) => fail(format!(
                "it is larger than the input limit of {limit} bytes (limits.input_bytes)"
            )),
            other => fail(describe_transport(&other)),
        })?;
    let text = String::from_utf8(body).map_err(|_| fail("it is not UTF-8 text".into()))?;
    Ok(Page { media_type, text })
}

/// A transport failure in a few words.
pub fn describe_transport(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => "timed out (provider.timeout_secs)".into(),
        ureq::Error::HostNotFound => "host not found (DNS lookup failed)".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".into()
        }
        other => other.to_string(),
    }
}

/// `http://user:secret@host/v1` → `http://***@host/v1`: endpoints are shown, credentials not.
pub fn redact_userinfo(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            return format!("{}***{}", &url[..scheme_end + 3], &rest[at..]);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_userinfo("https://u:p@host:1/v1/chat"),
            "https://***@host:1/v1/chat"
        );
        assert_eq!(redact_userinfo("http://host/v1"), "http://host/v1");
    }
}
