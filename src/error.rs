//! The one error type of the program, and the exit code each kind of error maps to.

use std::fmt;
use std::path::{Path, PathBuf};

/// Shorthand for results whose error is ours.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, grouped by the exit code scripts rely on (SPEC §2).
#[derive(Debug)]
pub enum Error {
    /// The command line is wrong: unknown flag, missing argument, bad value. Exit 2. The
    /// command line adds a hint to `nanopy --help` when it prints one (see [`Error::hint`]).
    Usage(String),
    /// The input is understood but invalid: a bad cron expression, bad tool-call JSON, an
    /// unknown tool. Exit 2.
    Input(String),
    /// A job name that is not in the store. Exit 2.
    UnknownJob(String),
    /// The config file is not valid JSON or has a value of the wrong type. Exit 3.
    ConfigSyntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// The configuration is well-formed but unusable (a bad URL, a zero timeout). Exit 3.
    Config(String),
    /// A local file could not be read or written. Exit 3.
    File {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The memory file exists but is not a JSON object; it is left untouched. Exit 3.
    MemoryCorrupt { path: PathBuf, detail: String },
    /// Another process held a lock for longer than we are willing to wait. Exit 3.
    Locked { path: PathBuf, holder: String },
    /// The job store or the log could not be opened, read or written. Exit 3.
    Database {
        /// `job store` or `log`.
        what: &'static str,
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The job store or the log is a file nanopy will not use (the Python tool's APScheduler
    /// store, a newer schema, not a database); it is left as it is. Exit 3.
    DatabaseRefused {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// The provider could not be reached or gave an unusable answer. Exit 4.
    Provider {
        endpoint: String,
        message: String,
        /// The HTTP status of an error answer; `None` for a network failure, a timeout or an
        /// unusable body. Decides whether another provider may be tried (SPEC §9).
        status: Option<u16>,
    },
    /// Every provider of the chain failed; one line per provider. Exit 4.
    ProvidersFailed(Vec<String>),
    /// Anything else that failed: a local tool, a key that is not there. Exit 1.
    Failed(String),
    /// stdout was closed by the reader (`nanopy … | head -1`); we stop quietly. Exit 0.
    BrokenPipe,
}

impl Error {
    /// The process exit status for this error (SPEC §2).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BrokenPipe => 0,
            Error::Failed(_) => 1,
            Error::Usage(_) | Error::Input(_) | Error::UnknownJob(_) => 2,
            Error::ConfigSyntax { .. }
            | Error::Config(_)
            | Error::File { .. }
            | Error::MemoryCorrupt { .. }
            | Error::Locked { .. }
            | Error::Database { .. }
            | Error::DatabaseRefused { .. } => 3,
            Error::Provider { .. } | Error::ProvidersFailed(_) => 4,
        }
    }

    /// What the command line adds after the message: a pointer to the help for usage errors,
    /// that of the `command` given when there is one (its flags are explained there).
    /// Kept out of `Display`, because tools hand error text to the model, which has no
    /// `--help` to read.
    pub fn hint(&self, command: Option<&str>) -> Option<String> {
        matches!(self, Error::Usage(_)).then(|| match command {
            Some(command) => format!("see `nanopy {command} --help`"),
            None => "see `nanopy --help`".to_string(),
        })
    }

    /// A file error, for `map_err`.
    pub fn file(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::File {
            action,
            path,
            source,
        }
    }

    /// An error of the job store or the log, for `map_err` on rusqlite results.
    pub fn database(what: &'static str, path: &Path) -> impl FnOnce(rusqlite::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Database { what, path, source }
    }

    /// A job-store error, for `map_err` on rusqlite results.
    pub fn store(path: &Path) -> impl FnOnce(rusqlite::Error) -> Error {
        Error::database("job store", path)
    }

    /// Whether another provider could succeed where this failure happened (SPEC §9): the
    /// server was unreachable, slow, refused the key, lacked the model, was busy or broken,
    /// or answered nonsense. A request the server called wrong (400, 422) fails anywhere.
    pub fn falls_over(&self) -> bool {
        match self {
            Error::Provider { status: None, .. } => true,
            Error::Provider {
                status: Some(status),
                ..
            } => matches!(status, 401 | 403 | 404 | 408 | 429 | 500..=599),
            _ => false,
        }
    }

    /// A conversation-log error, for `map_err` on rusqlite results.
    pub fn log(path: &Path) -> impl FnOnce(rusqlite::Error) -> Error {
        Error::database("log", path)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message)
            | Error::Input(message)
            | Error::Failed(message)
            | Error::Config(message) => f.write_str(message),
            Error::UnknownJob(name) => write!(f, "no job named `{name}` (see `nanopy cron-list`)"),
            Error::ConfigSyntax {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "invalid config `{}` at line {line}, column {column}: {message}; fix the file \
                 (it is never overwritten) or move it away to get the defaults",
                path.display()
            ),
            Error::File {
                action,
                path,
                source,
            } => write!(f, "cannot {action} `{}`: {source}", path.display()),
            Error::MemoryCorrupt { path, detail } => write!(
                f,
                "memory file `{}` is not a JSON object ({detail}); it was left untouched: \
                 repair it, or move it away to start with an empty memory",
                path.display()
            ),
            Error::Locked { path, holder } => write!(
                f,
                "`{}` is locked by {holder}; try again when it has finished",
                path.display()
            ),
            Error::Database { what, path, source } => {
                write!(f, "{what} `{}`: {source}", path.display())
            }
            Error::DatabaseRefused { what, path, reason } => {
                write!(f, "{what} `{}`: {reason}", path.display())
            }
            Error::Provider {
                endpoint, message, ..
            } => write!(f, "provider `{endpoint}`: {message}"),
            Error::ProvidersFailed(failures) => {
                write!(f, "every provider failed: {}", failures.join("; "))
            }
            Error::BrokenPipe => f.write_str("stdout was closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::File { source, .. } => Some(source),
            Error::Database { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// serde_json's message without the " at line L column C" it appends, for messages that
/// name the position themselves.
pub fn json_error_text(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}
