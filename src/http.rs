//! The HTTP client settings every outgoing request shares (our user agent, proxies from the
//! environment, rustls with bundled roots, error statuses as answers), fetching a page, and
//! the wording of transport failures. Used by the provider client, MCP over HTTP and `-f URL`.

use crate::config::ProviderConfig;
use crate::error::{Error, Result};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// The one way we build an HTTP client: our user agent, proxies from the environment
/// (`HTTPS_PROXY`, `NO_PROXY`), rustls with bundled roots, and error statuses returned as
/// answers, because the server's own message is what the user needs.
pub fn http_agent() -> ureq::Agent {
    new_agent(agent_config().build())
}

fn new_agent(config: ureq::config::Config) -> ureq::Agent {
    ureq::Agent::with_parts(config, DefaultConnector::default(), LiteralFirst::default())
}

/// Resolves names as ureq does, but takes an address written as an IP literal (a local
/// server: `http://127.0.0.1:8080/v1`) as it is. ureq starts a thread for every lookup that has
/// a timeout, literals included: a 2 MiB stack mapped and unmapped per request.
#[derive(Debug, Default)]
struct LiteralFirst(DefaultResolver);

impl Resolver for LiteralFirst {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or("");
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>();
        let port = uri.port_u16().or_else(|| match uri.scheme_str() {
            Some("http") => Some(80),
            Some("https") => Some(443),
            _ => None,
        });
        match (literal, port) {
            (Ok(ip), Some(port)) => {
                let mut addresses = self.empty();
                addresses.push(SocketAddr::new(ip, port));
                Ok(addresses)
            }
            _ => self.0.resolve(uri, config, timeout),
        }
    }
}

fn agent_config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .user_agent(concat!("nanopy/", env!("CARGO_PKG_VERSION")))
        // ureq's default buffers are 128 KiB each way, allocated and zeroed for every
        // connection: more than half of a turn's instructions and 64 page faults. Response
        // headers must fit the input buffer (a provider's are 1–2 KiB); bodies stream through.
        .input_buffer_size(IO_BUFFER_BYTES)
        .output_buffer_size(IO_BUFFER_BYTES)
}

/// The size of each of a connection's two buffers; the largest response header accepted.
const IO_BUFFER_BYTES: usize = 16 * 1024;

/// A client that follows no redirect: the provider's (a POST with the key must not wander
/// off, and the answer says where it pointed, so the user can fix `base_url`, SPEC §6) and
/// MCP over HTTP.
pub fn no_redirect_agent() -> ureq::Agent {
    new_agent(agent_config().max_redirects(0).build())
}

/// A page fetched for `-f URL`: its media type and its text, or an image's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub media_type: String,
    pub text: String,
    /// Served as an image (JPEG, PNG, GIF or WebP): its bytes, and `text` is empty.
    pub image: Option<Vec<u8>>,
}

/// The image types a turn can send (SPEC §15).
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Fetches `url` for a turn's input with the provider's HTTP client settings: the same
/// proxies and TLS, `timeout_secs` for the whole fetch, at most `limit` bytes. It carries no
/// API key: the key belongs to the provider, not to whatever page is named. Every failure is
/// an input error (exit 2) naming the URL.
pub fn fetch_page(
    config: &ProviderConfig,
    url: &str,
    limit: u64,
    image_limit: u64,
) -> Result<Page> {
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
    if IMAGE_TYPES.contains(&media_type.as_str()) {
        let bytes = response
            .body_mut()
            .with_config()
            .limit(image_limit)
            .read_to_vec()
            .map_err(|error| match error {
                ureq::Error::BodyExceedsLimit(_) => fail(format!(
                    "it is an image larger than the limit of {image_limit} bytes \
                     (limits.image_bytes)"
                )),
                other => fail(describe_transport(&other)),
            })?;
        return Ok(Page {
            media_type,
            text: String::new(),
            image: Some(bytes),
        });
    }
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
    Ok(Page {
        media_type,
        text,
        image: None,
    })
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
    fn ip_literals_resolve_as_written_and_names_through_the_system() {
        let resolve = |url: &str| {
            let uri: Uri = url.parse().unwrap();
            let config = agent_config().build();
            LiteralFirst::default()
                .resolve(&uri, &config, NextTimeout::default())
                .unwrap()
                .to_vec()
        };
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(resolve("http://127.0.0.1:8080/v1"), [v4]);
        let v6: SocketAddr = "[::1]:443".parse().unwrap();
        assert_eq!(resolve("https://[::1]/v1"), [v6]);
        let v4_default: SocketAddr = "10.1.2.3:80".parse().unwrap();
        assert_eq!(resolve("http://10.1.2.3/x"), [v4_default]);
        assert!(
            resolve("http://localhost:9/")
                .iter()
                .all(|address| address.ip().is_loopback() && address.port() == 9)
        );
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_userinfo("https://u:p@host:1/v1/chat"),
            "https://***@host:1/v1/chat"
        );
        assert_eq!(redact_userinfo("http://host/v1"), "http://host/v1");
    }
}
