//! Running a child process with a deadline, the one way every command we start runs (an
//! `api_key_cmd`, an allow-listed shell command, a `--notify` hook): its input written and its
//! output read on threads, so a child that never reads or fills a pipe cannot block us before
//! the deadline applies; killed and reaped at the deadline, so it never hangs nanopy and is
//! never left running.

use std::io::{self, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What a child that ran left behind.
#[derive(Debug)]
pub struct Ran {
    /// How it exited; `None` when it was still running at the deadline and was killed.
    pub status: Option<ExitStatus>,
    /// Its captured output (when the pipe was set to `Stdio::piped()`): at most the cap.
    pub stdout: Captured,
    pub stderr: Captured,
}

/// What was read from one output pipe.
#[derive(Debug, Default)]
pub struct Captured {
    /// The first bytes, up to the cap.
    pub bytes: Vec<u8>,
    /// How many bytes the child wrote in all.
    pub total: usize,
}

/// Why a child did not run to an answer.
#[derive(Debug)]
pub enum Trouble {
    /// It could not be started.
    Start(io::Error),
    /// It could not be waited for.
    Wait(io::Error),
}

/// Runs `command` for at most `timeout`. With `input`, stdin is a pipe that gets it;
/// otherwise stdin is `/dev/null`. Output pipes the caller set to `Stdio::piped()` are read,
/// keeping at most `cap` bytes each (the rest is drained, so the child never blocks). After a
/// kill at the deadline the readers are not waited for: a grandchild may hold a pipe open,
/// and nanopy must not wait for it.
pub fn run(
    command: &mut Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    cap: usize,
) -> Result<Ran, Trouble> {
    command.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = command.spawn().map_err(Trouble::Start)?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // The thread ends when the child has read it all, exits or is killed.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let stdout = child.stdout.take().map(|pipe| reader(pipe, cap));
    let stderr = child.stderr.take().map(|pipe| reader(pipe, cap));
    let status = wait_with_timeout(&mut child, timeout).map_err(Trouble::Wait)?;
    let collect = |reader: Option<JoinHandle<Captured>>| match (status, reader) {
        (Some(_), Some(reader)) => reader.join().unwrap_or_default(),
        _ => Captured::default(),
    };
    Ok(Ran {
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
    })
}

/// Reads a pipe to its end on a thread, keeping the first `cap` bytes.
fn reader<R: Read + Send + 'static>(mut pipe: R, cap: usize) -> JoinHandle<Captured> {
    thread::spawn(move || {
        let mut captured = Captured::default();
        let mut buffer = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            captured.total += n;
            let room = cap.saturating_sub(captured.bytes.len());
            captured.bytes.extend_from_slice(&buffer[..n.min(room)]);
        }
        captured
    })
}

/// How often a waiting loop looks at the child: first soon (most children we run — a check,
/// a key command, `df -h` — end within a millisecond or two), then less often.
const FIRST_POLL: Duration = Duration::from_micros(200);
const MAX_POLL: Duration = Duration::from_millis(10);

/// Waits for `child` to exit for at most `timeout`. A child still running then is killed and
/// reaped, and the answer is `Ok(None)`.
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut poll = FIRST_POLL;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(poll);
        poll = (poll * 2).min(MAX_POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn output_is_read_and_capped_and_input_is_written() {
        let ran = run(
            Command::new("sh")
                .args(["-c", "cat; echo err >&2; exit 4"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            Some(b"0123456789".to_vec()),
            Duration::from_secs(5),
            4,
        )
        .unwrap();
        assert_eq!(ran.status.and_then(|s| s.code()), Some(4));
        assert_eq!(
            (ran.stdout.bytes.as_slice(), ran.stdout.total),
            (&b"0123"[..], 10)
        );
        assert_eq!(ran.stderr.bytes, b"err\n");
    }

    #[test]
    fn a_child_that_cannot_start_says_so() {
        let trouble = run(
            &mut Command::new("/nonexistent/program"),
            None,
            Duration::from_secs(1),
            0,
        )
        .unwrap_err();
        assert!(matches!(trouble, Trouble::Start(_)));
    }

    #[test]
    fn a_quick_child_reports_its_status() {
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let status = wait_with_timeout(&mut child, Duration::from_secs(5)).unwrap();
        assert_eq!(status.and_then(|s| s.code()), Some(3));
    }

    #[test]
    fn a_slow_child_is_killed_and_reaped_at_the_deadline() {
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let start = Instant::now();
        assert!(
            wait_with_timeout(&mut child, Duration::from_millis(100))
                .unwrap()
                .is_none()
        );
        assert!(start.elapsed() < Duration::from_secs(3));
        // Reaped: its exit status has been collected.
        assert!(child.try_wait().unwrap().is_some());
    }
}
