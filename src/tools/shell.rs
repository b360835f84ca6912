//! `shell`: runs one of the exact command lines the user allowed in the config, without a
//! shell (no pipes, globs, variables or extra arguments), with a timeout and an output cap.

use super::{MAX_RESULT_CHARS, Tool, ToolError, ToolResult, string_arg};
use crate::child::{Captured, Trouble};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
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
    let ran = crate::child::run(
        Command::new(program)
            .args(words)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        None,
        timeout,
        MAX_RESULT_CHARS + 1,
    )
    .map_err(|trouble| match trouble {
        Trouble::Start(error) => format!("cannot run `{program}`: {error}"),
        Trouble::Wait(error) => format!("waiting for `{line}`: {error}"),
    })?;
    let Some(status) = ran.status else {
        return Err(format!("`{line}` timed out after {}s", timeout.as_secs()));
    };
    let mut output = text_of(ran.stdout);
    let errors = text_of(ran.stderr);
    if !errors.is_empty() {
        output.push_str(&errors);
    }
    if status.success() {
        Ok(output)
    } else {
        Err(format!("`{line}` exited with {status}: {output}"))
    }
}

/// A pipe's text, capped at [`MAX_RESULT_CHARS`] bytes with a note when there was more.
fn text_of(captured: Captured) -> String {
    let text = String::from_utf8_lossy(&captured.bytes).into_owned();
    if captured.total > captured.bytes.len() {
        super::cap(text)
    } else {
        text
    }
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
