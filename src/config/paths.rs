//! Where our files live: the data directory, `~` and paths relative to the data directory.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// `NANOPYBOT_HOME`, else `~/.nanopybot`.
pub fn data_dir(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    if let Some(dir) = env("NANOPYBOT_HOME") {
        return Ok(expand_home(&dir, env));
    }
    home(env)
        .map(|home| home.join(".nanopybot"))
        .ok_or_else(|| {
            Error::Config(
                "cannot find the home directory: set `NANOPYBOT_HOME` to the data directory".into(),
            )
        })
}

fn home(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env("HOME").map(PathBuf::from).or_else(std::env::home_dir)
}

fn expand_home(path: &str, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => match home(env) {
            Some(home) => home.join(rest.trim_start_matches('/')),
            None => PathBuf::from(path),
        },
        _ => PathBuf::from(path),
    }
}

/// A configured path: `~` expanded, a relative one taken from the data directory.
pub fn resolve_path(data_dir: &Path, value: &str, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let path = expand_home(value, env);
    if path.is_absolute() {
        path
    } else {
        data_dir.join(path)
    }
}
