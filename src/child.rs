//! Waiting for a child process with a deadline: a command we start (an allow-listed shell
//! command, a `--notify` hook) must never hang nanopy, and must never be left running.

use std::io;
use std::process::{Child, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

/// How often a waiting loop looks at the child.
const POLL: Duration = Duration::from_millis(10);

/// Waits for `child` to exit for at most `timeout`. A child still running then is killed and
/// reaped, and the answer is `Ok(None)`.
pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

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
