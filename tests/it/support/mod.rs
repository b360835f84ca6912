//! Test support: a fresh data directory per test, a command builder for the binary, and the
//! fake OpenAI-compatible server.

pub mod fake_server;

pub use fake_server::{FakeServer, Reply};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The binary under test: `NANOPY_BIN` if set (to test a static build), else Cargo's.
pub fn binary() -> PathBuf {
    std::env::var_os("NANOPY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_nanopy")))
}

/// A fake server answering `replies`, and a workdir whose config points at it.
pub fn with_server(name: &str, replies: Vec<Reply>) -> (Workdir, FakeServer) {
    let server = FakeServer::start(replies);
    let wd = Workdir::new(name);
    wd.config_for(&server);
    (wd, server)
}

/// The wall clock in Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A unique directory that serves as `NANOPYBOT_HOME` and `HOME` for one test.
pub struct Workdir {
    dir: PathBuf,
}

impl Workdir {
    /// A fresh, empty directory named after the test.
    pub fn new(name: &str) -> Workdir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("it")
            .join(format!("{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Workdir { dir }
    }

    /// The data directory the binary uses (`NANOPYBOT_HOME`).
    pub fn home(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A path inside the data directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.home().join(name)
    }

    /// Writes `config.json` in the data directory, private as nanopy itself would make it.
    pub fn config(&self, json: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(self.home()).unwrap();
        std::fs::set_permissions(self.home(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(self.path("config.json"), json).unwrap();
        std::fs::set_permissions(
            self.path("config.json"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }

    /// A config pointing at `server`, with no API key.
    pub fn config_for(&self, server: &FakeServer) {
        self.config(&format!(
            r#"{{"provider": {{"base_url": "{}", "model": "test-model", "timeout_secs": 10, "max_retries": 2}}}}"#,
            server.base_url()
        ));
    }

    /// Adds job `name` (message `job <name>`, zone UTC) through the command line.
    pub fn add_job(&self, name: &str, cron: &str) {
        let message = format!("job {name}");
        self.nanopy(&[
            "cron-add",
            "--name",
            name,
            "--message",
            &message,
            "--cron",
            cron,
            "--tz",
            "UTC",
        ])
        .run()
        .success();
    }

    /// The job's recorded runs (at most 100), newest first, from `cron-history --json`.
    pub fn history(&self, job: &str) -> Vec<serde_json::Value> {
        self.nanopy(&["cron-history", job, "--json", "--limit", "100"])
            .run()
            .success()
            .json()
            .as_array()
            .unwrap()
            .clone()
    }

    /// Runs `writers` processes at once, each setting keys `w<writer>-<n>` to `n` for
    /// `n` below `updates`, and waits for all of them to succeed.
    pub fn concurrent_memory_writers(&self, writers: usize, updates: usize) {
        let children: Vec<_> = (0..writers)
            .map(|writer| {
                let script = format!(
                    "for n in $(seq 0 {}); do '{}' memory-set w{writer}-$n $n || exit 1; done",
                    updates - 1,
                    binary().display()
                );
                Command::new("sh")
                    .arg("-c")
                    .arg(script)
                    .env("NANOPYBOT_HOME", self.home())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success(), "a writer failed");
        }
    }

    /// A command running `nanopy args…` in this workdir with a clean environment.
    pub fn nanopy(&self, args: &[&str]) -> Cmd {
        let mut command = Command::new(binary());
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("NANOPYBOT_HOME", self.home())
            .env("TZ", "UTC")
            .current_dir(&self.dir);
        Cmd {
            command,
            stdin: None,
        }
    }
}

/// A command to run, with optional stdin.
pub struct Cmd {
    command: Command,
    stdin: Option<String>,
}

impl Cmd {
    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.command.env(key, value);
        self
    }

    /// Feeds `text` on stdin.
    pub fn stdin(mut self, text: &str) -> Cmd {
        self.stdin = Some(text.to_string());
        self
    }

    /// Starts the command without waiting (stdout and stderr piped).
    pub fn spawn(mut self) -> std::process::Child {
        self.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs it to the end.
    pub fn run(mut self) -> Outcome {
        let description = format!("{:?}", self.command);
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = self.stdin.take().unwrap_or_default();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap();
        Outcome {
            description,
            output,
        }
    }
}

/// A finished command, with assertions that print everything on failure.
pub struct Outcome {
    description: String,
    output: Output,
}

impl Outcome {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn dump(&self) -> String {
        format!(
            "command: {}\nstatus: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.description,
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }

    /// Asserts exit status `code`.
    pub fn status(self, code: i32) -> Outcome {
        assert_eq!(
            self.code(),
            Some(code),
            "wrong exit status\n{}",
            self.dump()
        );
        self
    }

    /// Asserts success.
    pub fn success(self) -> Outcome {
        self.status(0)
    }

    /// Asserts stdout is exactly `text`.
    pub fn stdout_is(self, text: &str) -> Outcome {
        assert_eq!(self.stdout(), text, "unexpected stdout\n{}", self.dump());
        self
    }

    /// Asserts stdout contains `text`.
    pub fn stdout_has(self, text: &str) -> Outcome {
        assert!(
            self.stdout().contains(text),
            "stdout lacks {text:?}\n{}",
            self.dump()
        );
        self
    }

    /// Asserts stderr contains `text`.
    pub fn stderr_has(self, text: &str) -> Outcome {
        assert!(
            self.stderr().contains(text),
            "stderr lacks {text:?}\n{}",
            self.dump()
        );
        self
    }

    /// Asserts neither stream contains `text` (a secret, say).
    pub fn never_shows(self, text: &str) -> Outcome {
        assert!(
            !self.stdout().contains(text) && !self.stderr().contains(text),
            "output shows {text:?}\n{}",
            self.dump()
        );
        self
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error})\n{}", self.dump()))
    }
}
