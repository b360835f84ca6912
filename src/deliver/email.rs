//! `email` targets: an RFC 5322 message piped to `sendmail -i -t`, as cron mails its output
//! (msmtp, ssmtp, Postfix and Exim all provide that command); its exit status is the result.

use super::{Failure, Letter, mime};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The default mail command, as cron uses it.
const SENDMAIL: &str = "/usr/sbin/sendmail";
/// The longest `sendmail` may take.
const SENDMAIL_TIMEOUT: Duration = Duration::from_secs(60);

pub fn send(
    to: &str,
    from: Option<&str>,
    sendmail: Option<&str>,
    letter: &Letter,
) -> Result<(), Failure> {
    let host = super::hostname();
    let message = compose(to, from, &host, letter, jiff::Timestamp::now());
    // Split into words without a shell: the setting names a program and its options.
    let words: Vec<&str> = sendmail.unwrap_or(SENDMAIL).split_whitespace().collect();
    let Some((program, options)) = words.split_first() else {
        return Err(Failure::Permanent(
            "the target's `sendmail` is empty".into(),
        ));
    };
    let ran = crate::child::run(
        Command::new(program)
            .args(options)
            .args(["-i", "-t"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
        Some(message.into_bytes()),
        SENDMAIL_TIMEOUT,
        4096,
    );
    super::child_result(ran, &format!("`{program}`"), SENDMAIL_TIMEOUT)
}

/// The message: headers, then the text in quoted-printable UTF-8.
pub fn compose(
    to: &str,
    from: Option<&str>,
    host: &str,
    letter: &Letter,
    now: jiff::Timestamp,
) -> String {
    let subject = match (letter.job, letter.status) {
        (Some(job), Some(status)) => format!("[nanopy] {job}: {status}"),
        _ => "[nanopy] message".to_string(),
    };
    let from = from.map_or_else(|| format!("nanopy@{host}"), str::to_string);
    let zoned = now.to_zoned(crate::zone::local());
    let date = zoned.strftime("%a, %d %b %Y %H:%M:%S %z");
    let id = format!(
        "<{}.{}.{}@{host}>",
        now.as_second(),
        now.subsec_nanosecond(),
        std::process::id()
    );
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {}\r\nDate: {date}\r\nMessage-ID: {id}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n",
        mime::header_text(&subject),
        mime::quoted_printable(letter.text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_has_every_header_and_an_encoded_subject() {
        let letter = Letter {
            job: Some("cadangan"),
            status: Some("gagal ✗"),
            text: "disk penuh — 98%",
            ..Letter::default()
        };
        let now: jiff::Timestamp = "2026-12-06T07:00:00Z".parse().unwrap();
        let message = compose("ops@example.com", None, "pi", &letter, now);
        for header in [
            "From: nanopy@pi\r\n",
            "To: ops@example.com\r\n",
            "Subject: =?UTF-8?B?",
            "MIME-Version: 1.0\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n",
        ] {
            assert!(message.contains(header), "{header}: {message}");
        }
        assert!(message.contains("Message-ID: <") && message.contains("Date: "));
        assert!(
            message.ends_with("disk penuh =E2=80=94 98%\r\n"),
            "{message}"
        );
    }
}
