//! `command` targets (and a job's `--notify`): `sh -c CMD` with the text on stdin and
//! `NANOPY_JOB`, `NANOPY_STATUS`, `NANOPY_TARGET` in its environment; exit 0 is success, any
//! other end is retried.

use super::{Failure, Letter};
use std::process::Command;
use std::time::Duration;

/// The longest a delivery command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

pub fn send(command: &str, target: &str, letter: &Letter) -> Result<(), Failure> {
    let ran = crate::child::run(
        Command::new("sh")
            .arg("-c")
            .arg(command)
            .env("NANOPY_JOB", letter.job.unwrap_or(""))
            .env("NANOPY_STATUS", letter.status.unwrap_or(""))
            .env("NANOPY_TARGET", target),
        Some(letter.text.as_bytes().to_vec()),
        COMMAND_TIMEOUT,
        0,
    );
    super::child_result(ran, "the command", COMMAND_TIMEOUT)
}
