//! Deliveries (SPEC §12): sending a text to a configured target, one kind per file. A send
//! either succeeds, fails in a way worth retrying (no connection, a timeout, 408, 429, 5xx, a
//! command or `sendmail` exiting non-zero), or fails for good (other 4xx, a target that
//! cannot work); the outbox (`cron::outbox`) decides when to try again.

mod command;
mod email;
pub mod mime;
mod ntfy;
mod ping;
pub mod telegram;
mod webhook;

use crate::config::{Config, Target, TargetKind};
use std::time::Duration;

/// How long one send may take, connection included.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// What is delivered, and what about.
#[derive(Debug, Clone, Copy, Default)]
pub struct Letter<'a> {
    /// The job whose run it reports; `None` for `notify` and `agent --to`.
    pub job: Option<&'a str>,
    /// The run's status (`ok`, `failed`, …); `None` for `notify` and `agent --to`.
    pub status: Option<&'a str>,
    pub scheduled_at: Option<i64>,
    pub started_at: Option<i64>,
    pub text: &'a str,
}

impl Letter<'_> {
    /// `<job>: <status>`, or `nanopy` for a person's own message.
    pub fn title(&self) -> String {
        match (self.job, self.status) {
            (Some(job), Some(status)) => format!("{job}: {status}"),
            _ => "nanopy".to_string(),
        }
    }

    /// Whether the run it reports went wrong (a high-priority notification).
    pub fn is_bad_news(&self) -> bool {
        matches!(self.status, Some("failed" | "missed" | "interrupted"))
    }
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Worth another try, not before `after` when the server said so (`Retry-After`).
    Retry {
        error: String,
        after: Option<Duration>,
    },
    /// Trying again would not help (a 4xx, a target that cannot work).
    Permanent(String),
}

impl Failure {
    /// The error text, as recorded and shown.
    pub fn text(&self) -> &str {
        match self {
            Failure::Retry { error, .. } => error,
            Failure::Permanent(error) => error,
        }
    }
}

/// Sends `letter` to `target` now.
pub fn send(config: &Config, target: &Target, letter: &Letter) -> Result<(), Failure> {
    match &target.kind {
        TargetKind::Ntfy {
            url,
            token,
            priority,
            tags,
        } => ntfy::send(
            url,
            token.as_ref(),
            priority.as_deref(),
            tags.as_deref(),
            letter,
        ),
        TargetKind::Telegram { chat } => telegram::deliver(config, *chat, letter),
        TargetKind::Email { to, from, sendmail } => {
            email::send(to, from.as_deref(), sendmail.as_deref(), letter)
        }
        TargetKind::Webhook { url, headers } => webhook::send(url, headers, letter),
        TargetKind::Ping { url } => ping::finish(url, letter),
        TargetKind::Command { command } => command::send(command, &target.name, letter),
    }
}

/// Tells a `ping` target that a run started (`URL/start`); other kinds have nothing to do.
pub fn started(target: &Target) -> Result<(), Failure> {
    match &target.kind {
        TargetKind::Ping { url } => ping::start(url),
        _ => Ok(()),
    }
}

/// How a response to a delivery request ends: 2xx is done, 408, 429 and 5xx are retried
/// (after `Retry-After` when given), other statuses fail for good. `detail` is the server's
/// own words for the error text.
pub fn judge(status: u16, retry_after: Option<Duration>, detail: &str) -> Result<(), Failure> {
    let error = || {
        let detail = detail.split_whitespace().collect::<Vec<_>>().join(" ");
        let detail: String = detail.chars().take(200).collect();
        if detail.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {detail}")
        }
    };
    match status {
        200..=299 => Ok(()),
        408 | 429 | 500..=599 => Err(Failure::Retry {
            error: error(),
            after: retry_after,
        }),
        _ => Err(Failure::Permanent(error())),
    }
}

/// Sends an HTTP request built by `build` through the shared client settings and judges the
/// answer; a transport failure (refused, timeout, DNS) is worth a retry.
pub fn http(
    request: ureq::RequestBuilder<ureq::typestate::WithBody>,
    body: &[u8],
) -> Result<(), Failure> {
    let response = request
        .config()
        .timeout_global(Some(SEND_TIMEOUT))
        .build()
        .send(body);
    answer(response)
}

/// As [`http`], for a GET.
pub fn http_get(
    request: ureq::RequestBuilder<ureq::typestate::WithoutBody>,
) -> Result<(), Failure> {
    let response = request
        .config()
        .timeout_global(Some(SEND_TIMEOUT))
        .build()
        .call();
    answer(response)
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<(), Failure> {
    let mut response = response.map_err(|error| Failure::Retry {
        error: crate::http::describe_transport(&error),
        after: None,
    })?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let detail = if (200..300).contains(&status) {
        String::new()
    } else {
        response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default()
    };
    judge(status, retry_after, &detail)
}

/// This machine's name, for webhooks and mail.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|name| name.trim().to_string())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// How a delivery's child process (a `command` target, `sendmail`) ended, as a delivery
/// result: exit 0 is sent; any other end is worth a retry, named with `what` and the last line
/// the child wrote on stderr, when it was captured.
fn child_result(
    ran: Result<crate::child::Ran, crate::child::Trouble>,
    what: &str,
    timeout: Duration,
) -> Result<(), Failure> {
    use crate::child::{Ran, Trouble};
    let retry = |error: String| Failure::Retry { error, after: None };
    match ran {
        Ok(Ran {
            status: Some(status),
            ..
        }) if status.success() => Ok(()),
        Ok(Ran {
            status: Some(status),
            stderr,
            ..
        }) => {
            let said = String::from_utf8_lossy(&stderr.bytes);
            let said = said
                .lines()
                .rfind(|line| !line.trim().is_empty())
                .unwrap_or("");
            Err(retry(
                format!("{what} exited with {status}: {}", said.trim())
                    .trim_end_matches(": ")
                    .to_string(),
            ))
        }
        Ok(Ran { status: None, .. }) => Err(retry(format!(
            "{what} took longer than {}s and was stopped",
            timeout.as_secs()
        ))),
        Err(Trouble::Start(error)) => Err(retry(format!("cannot run {what}: {error}"))),
        Err(Trouble::Wait(error)) => Err(retry(format!("cannot wait for {what}: {error}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_done_retried_or_failed_for_good() {
        assert_eq!(judge(204, None, ""), Ok(()));
        for status in [408, 429, 500, 503] {
            assert!(
                matches!(judge(status, None, ""), Err(Failure::Retry { .. })),
                "{status}"
            );
        }
        let wait = Some(Duration::from_secs(7));
        assert_eq!(
            judge(429, wait, "slow down"),
            Err(Failure::Retry {
                error: "HTTP 429: slow down".into(),
                after: wait
            })
        );
        assert_eq!(
            judge(400, None, "bad\ntopic"),
            Err(Failure::Permanent("HTTP 400: bad topic".into()))
        );
    }

    #[test]
    fn a_runs_letter_is_titled_by_its_job_and_a_persons_by_nanopy() {
        let run = Letter {
            job: Some("backup"),
            status: Some("failed"),
            ..Letter::default()
        };
        assert_eq!(run.title(), "backup: failed");
        assert!(run.is_bad_news());
        assert_eq!(Letter::default().title(), "nanopy");
    }
}
