//! The stdio transport: a child process speaking newline-delimited JSON-RPC. A reader thread
//! turns its stdout into events on a channel (so every wait has a deadline), another passes
//! its stderr through marked with the server's name. Requests the server sends us are
//! answered while we wait; shutdown closes stdin, then SIGTERM, then SIGKILL, and reaps.

use super::protocol::{self, RpcError};
use super::transport::{Answer, Fault, Transport};
use crate::process_group;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread;
use std::time::{Duration, Instant};

/// The longest line (one message) a server may write: longer is a fault, not a memory hog.
pub const MAX_LINE_BYTES: u64 = 4 * 1024 * 1024;
/// Each shutdown step's wait before the next, harder one.
const SHUTDOWN_STEP: Duration = Duration::from_millis(500);
/// The longest stderr line passed through; the rest of it is cut.
const MAX_STDERR_LINE: usize = 2000;

/// What the stdout reader saw.
enum Event {
    Message(Value),
    NotJson(String),
    TooLong,
    Closed,
}

/// A running stdio server.
pub struct StdioServer {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Event>,
    next_id: u64,
    /// Ids we stopped waiting for: a late answer to one of them is dropped, not a fault.
    abandoned: Vec<u64>,
    list_changed: bool,
    reaped: bool,
}

/// How to start a stdio server.
pub struct Launch<'a> {
    pub name: &'a str,
    pub command: &'a str,
    pub args: &'a [String],
    pub env: &'a BTreeMap<String, String>,
}

impl StdioServer {
    /// Starts the server. A command that cannot be started is a fault naming it.
    pub fn start(launch: &Launch) -> Result<StdioServer, Fault> {
        let mut command = Command::new(launch.command);
        command
            .args(launch.args)
            .envs(launch.env)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = process_group::spawn(&mut command).map_err(|error| {
            Fault::Broken(format!("cannot start `{}`: {error}", launch.command))
        })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (sender, events) = channel();
        thread::spawn(move || read_messages(stdout, &|event| sender.send(event).is_ok()));
        let prefix = format!("[mcp:{}] ", launch.name);
        thread::spawn(move || pass_stderr(stderr, &prefix));
        Ok(StdioServer {
            stdin: child.stdin.take(),
            child,
            events,
            next_id: 1,
            abandoned: Vec::new(),
            list_changed: false,
            reaped: false,
        })
    }

    fn write(&mut self, message: &Value) -> Result<(), Fault> {
        let mut line = message.to_string();
        line.push('\n');
        let written = match self.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.flush()),
            None => return Err(Fault::Broken("its input is closed".into())),
        };
        written.map_err(|_| self.gone())
    }

    /// The fault for a server whose pipes closed: how it ended, if it did.
    fn gone(&mut self) -> Fault {
        // Its output closes a moment before it is reaped: give it that moment.
        let deadline = Instant::now() + Duration::from_millis(300);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Fault::Broken(format!("the server exited ({status})")),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                _ => return Fault::Broken("the server closed its output".into()),
            }
        }
    }

    fn reap(&mut self) {
        if self.reaped {
            return;
        }
        let pgid = self.child.id();
        self.stdin = None;
        let exited = |child: &mut Child, wait: Duration| {
            let deadline = Instant::now() + wait;
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    return true;
                }
                if Instant::now() >= deadline {
                    return false;
                }
                thread::sleep(Duration::from_millis(5));
            }
        };
        if !exited(&mut self.child, SHUTDOWN_STEP) {
            process_group::signal(pgid, libc::SIGTERM);
            if !exited(&mut self.child, SHUTDOWN_STEP) {
                process_group::signal(pgid, libc::SIGKILL);
                let _ = self.child.wait();
            }
        }
        // The leader is gone; anything it left behind in its group goes too.
        process_group::signal(pgid, libc::SIGKILL);
        process_group::forget(pgid);
        self.reaped = true;
    }
}

impl Transport for StdioServer {
    fn request(&mut self, method: &str, params: Value, timeout: Duration) -> Result<Answer, Fault> {
        let id = self.next_id;
        self.next_id += 1;
        self.write(&protocol::request(id, method, params))?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = match self.events.recv_timeout(left) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => {
                    self.abandoned.push(id);
                    return Err(Fault::Timeout);
                }
                Err(RecvTimeoutError::Disconnected) => Event::Closed,
            };
            let message = match event {
                Event::Message(message) => message,
                Event::NotJson(start) => {
                    return Err(Fault::Broken(format!(
                        "the server wrote something that is not JSON-RPC on stdout: `{start}`"
                    )));
                }
                Event::TooLong => {
                    return Err(Fault::Broken(format!(
                        "the server wrote a message over {} MiB",
                        MAX_LINE_BYTES / (1024 * 1024)
                    )));
                }
                Event::Closed => return Err(self.gone()),
            };
            if let Some(method) = message["method"].as_str() {
                match message.get("id") {
                    Some(request_id) => {
                        let answer = protocol::answer_server_request(request_id, method);
                        self.write(&answer)?;
                    }
                    None if method == "notifications/tools/list_changed" => {
                        self.list_changed = true;
                    }
                    None => {}
                }
                continue;
            }
            match message["id"].as_u64() {
                Some(answered) if answered == id => {
                    return Ok(match message.get("error") {
                        Some(error) => Err(RpcError::from_value(error)),
                        None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
                    });
                }
                Some(answered) if self.abandoned.contains(&answered) => continue,
                _ => {
                    return Err(Fault::Broken(format!(
                        "the server answered request {id} with id {}",
                        message.get("id").map_or("(none)".into(), Value::to_string)
                    )));
                }
            }
        }
    }

    fn notify(&mut self, method: &str) -> Result<(), Fault> {
        self.write(&protocol::notification(method))
    }

    fn take_list_changed(&mut self) -> bool {
        // A notice sent right after an answer may still be on its way: read what has come
        // (once the server is gone, all it wrote, up to the end of its output).
        loop {
            let event = if self.reaped {
                self.events.recv_timeout(Duration::from_millis(100)).ok()
            } else {
                self.events.try_recv().ok()
            };
            match event {
                Some(Event::Message(message)) => {
                    if message["method"] == "notifications/tools/list_changed" {
                        self.list_changed = true;
                    }
                }
                Some(Event::NotJson(_)) => {}
                Some(Event::TooLong | Event::Closed) | None => break,
            }
        }
        std::mem::take(&mut self.list_changed)
    }

    fn shutdown(&mut self) {
        self.reap();
    }
}

impl Drop for StdioServer {
    fn drop(&mut self) {
        self.reap();
    }
}

/// Reads newline-delimited messages, handing each to `send` until it refuses one; a line
/// over [`MAX_LINE_BYTES`] or end of file ends the reading.
fn read_messages(stdout: impl Read, send: &dyn Fn(Event) -> bool) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut line = Vec::new();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut line);
        match read {
            Ok(0) | Err(_) => {
                send(Event::Closed);
                return;
            }
            Ok(_) if line.len() as u64 > MAX_LINE_BYTES => {
                send(Event::TooLong);
                return;
            }
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let event = match serde_json::from_str::<Value>(text) {
            Ok(message) if message.is_object() => Event::Message(message),
            _ => Event::NotJson(text.chars().take(80).collect()),
        };
        if !send(event) {
            return;
        }
    }
}

/// Copies the server's stderr to ours, a line at a time, each marked with `prefix`.
fn pass_stderr(stderr: impl Read, prefix: &str) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader).take(64 * 1024).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = crate::truncate::to_bytes(text.trim_end().to_string(), MAX_STDERR_LINE);
        let _ = writeln!(std::io::stderr(), "{prefix}{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn events(input: &[u8]) -> Vec<String> {
        let seen = RefCell::new(Vec::new());
        read_messages(input, &|event| {
            seen.borrow_mut().push(match event {
                Event::Message(message) => format!("msg {message}"),
                Event::NotJson(start) => format!("not json {start}"),
                Event::TooLong => "too long".into(),
                Event::Closed => "closed".into(),
            });
            true
        });
        seen.into_inner()
    }

    #[test]
    fn lines_become_messages_and_anything_else_is_named() {
        let seen = events(b"{\"id\":1}\n\n  \nhello there\n[1]\n{\"id\":2}");
        assert_eq!(
            seen,
            [
                "msg {\"id\":1}",
                "not json hello there",
                "not json [1]",
                "msg {\"id\":2}",
                "closed"
            ]
        );
    }

    #[test]
    fn a_line_over_the_cap_ends_the_reading() {
        let mut flood = vec![b'x'; MAX_LINE_BYTES as usize + 10];
        flood.push(b'\n');
        assert_eq!(events(&flood), ["too long"]);
    }
}
