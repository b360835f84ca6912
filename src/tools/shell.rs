//! `shell`: runs one of the exact command lines the user allowed in the config, without a
//! shell (no pipes, globs, variables or extra arguments), with a timeout and an output cap.

use super::{MAX_RESULT_CHARS, Tool, ToolError, ToolResult, string_arg};
use serde_json::{Value, json};
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

/// Runs allow-listed commands.
pub struct Shell {
    allow: Vec<String>,
    timeout: Duration,
}

impl Shell {
    /// A shell tool for exactly these command lines.
    pub fn new(allow: Vec<String>, timeout_secs: u64) -> Shell {
        Shell {
            allow,
            timeout: Duration::from_secs(timeout_secs.max(1)),
        }
    }
}

impl Tool for Shell {
    fn name(&self) -> &str {
        "shell"
    }

    fn description(&self) -> &str {
        "Run one of the command lines the user has allowed (listed in the `command` enum) and \
         get its output."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "enum": self.allow,
                            "description": "Exactly one of the allowed command lines."}
            },
            "required": ["command"]
        })
    }

    fn call(&self, arguments: &Value) -> ToolResult {
        let requested = string_arg(arguments, "command")?;
        // Exact match only: "df -h; rm -rf /" or "df -h /etc" is not "df -h".
        let allowed = self
            .allow
            .iter()
            .find(|line| line.as_str() == requested)
            .ok_or_else(|| {
                ToolError(format!(
                    "`{requested}` is not an allowed command; allowed: {}",
                    self.allow.join(", ")
                ))
            })?;
        run(allowed, self.timeout).map_err(ToolError)
    }
}

/// Splits on whitespace and executes directly: the words are never interpreted by a shell.
fn run(line: &str, timeout: Duration) -> Result<String, String> {
    let mut words = line.split_whitespace();
    let program = words.next().ok_or("the allowed command is empty")?;
    let mut child = Command::new(program)
        .args(words)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run `{program}`: {error}"))?;
    let stdout = capped_reader(child.stdout.take());
    let stderr = capped_reader(child.stderr.take());
    let status = match crate::child::wait_with_timeout(&mut child, timeout) {
        Ok(Some(status)) => status,
        Ok(None) => return Err(format!("`{line}` timed out after {}s", timeout.as_secs())),
        Err(error) => return Err(format!("waiting for `{line}`: {error}")),
    };
    let mut output = stdout.join().unwrap_or_default();
    let errors = stderr.join().unwrap_or_default();
    if !errors.is_empty() {
        output.push_str(&errors);
    }
    if status.success() {
        Ok(output)
    } else {
        Err(format!("`{line}` exited with {status}: {output}"))
    }
}

/// Reads a pipe to the end on a thread (so the child never blocks on a full pipe), keeping
/// at most [`MAX_RESULT_CHARS`] bytes.
fn capped_reader<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let Some(mut pipe) = pipe else {
            return String::new();
        };
        let mut kept = Vec::new();
        let mut buffer = [0u8; 8192];
        let mut total = 0usize;
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            total += n;
            let room = (MAX_RESULT_CHARS + 1).saturating_sub(kept.len());
            kept.extend_from_slice(&buffer[..n.min(room)]);
        }
        let text = String::from_utf8_lossy(&kept).into_owned();
        if total > kept.len() {
            super::cap(text)
        } else {
            text
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn shell(allow: &[&str]) -> Shell {
        Shell::new(allow.iter().map(|s| s.to_string()).collect(), 5)
    }

    #[test]
    fn runs_an_allowed_command_without_a_shell() {
        let out = shell(&["echo hello $HOME ; id"])
            .call(&json!({"command": "echo hello $HOME ; id"}))
            .unwrap();
        // No shell: the metacharacters are passed to echo as plain words.
        assert_eq!(out, "hello $HOME ; id\n");
    }

    #[test]
    fn refuses_anything_not_exactly_allowed() {
        let tool = shell(&["echo hi"]);
        for attempt in [
            "echo hi; id",
            "echo hi ",
            "echo  hi",
            "echo hi --help",
            "id",
            "",
        ] {
            assert!(
                tool.call(&json!({"command": attempt})).is_err(),
                "{attempt:?} ran"
            );
        }
    }

    #[test]
    fn slow_command_is_stopped_at_the_timeout() {
        let tool = Shell::new(vec!["sleep 5".into()], 1);
        let start = Instant::now();
        let error = tool.call(&json!({"command": "sleep 5"})).unwrap_err().0;
        assert!(error.contains("timed out"), "{error}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn output_is_capped() {
        let tool = shell(&["head -c 100000 /dev/zero"]);
        let out = tool
            .call(&json!({"command": "head -c 100000 /dev/zero"}))
            .unwrap();
        assert!(out.len() < MAX_RESULT_CHARS + 100, "{}", out.len());
        assert!(out.ends_with("bytes in all]"));
    }
}
