//! The memory store: one JSON object in a file, updated under a lock and written atomically.
//!
//! The file stays a plain `{"key": value}` object so the Python tool's files load unchanged and
//! other programs can read ours. Expiry times live under one reserved key, [`META_KEY`].

use crate::atomic_file;
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// The reserved key holding our metadata: `{"expires": {"key": unix_seconds}}`.
pub const META_KEY: &str = "_nanopybot";

/// How long a writer waits for another writer before giving up with exit 3.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The key/value pairs of the store, without the metadata.
pub type Entries = Map<String, Value>;

/// A handle on the memory file; cheap, holds no open file between calls.
#[derive(Debug, Clone)]
pub struct Memory {
    path: PathBuf,
    lock_path: PathBuf,
}

/// The file's content split into user entries and expiry times.
struct Contents {
    entries: Entries,
    expires: Map<String, Value>,
}

impl Memory {
    /// A store backed by the file at `path` (which need not exist yet).
    pub fn open(path: &Path) -> Memory {
        let mut lock_name = path.file_name().unwrap_or_default().to_os_string();
        lock_name.push(".lock");
        Memory {
            path: path.to_path_buf(),
            lock_path: path.with_file_name(lock_name),
        }
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of `key`, unless it is absent or expired at `now` (Unix seconds).
    pub fn get(&self, key: &str, now: u64) -> Result<Option<Value>> {
        Ok(self.read(now)?.entries.remove(key))
    }

    /// All live keys at `now`, sorted.
    pub fn keys(&self, now: u64) -> Result<Vec<String>> {
        Ok(self.read(now)?.entries.keys().cloned().collect())
    }

    /// Sets `key` to `value`, expiring `ttl` after `now` if given.
    pub fn set(&self, key: &str, value: Value, ttl: Option<Duration>, now: u64) -> Result<()> {
        check_key(key)?;
        self.update(now, |contents| {
            contents.entries.insert(key.to_string(), value);
            match ttl {
                Some(ttl) => contents.expires.insert(
                    key.to_string(),
                    Value::from(now.saturating_add(ttl.as_secs())),
                ),
                None => contents.expires.remove(key),
            };
            Ok(())
        })
    }

    /// Removes `key`; returns whether it was there.
    pub fn delete(&self, key: &str, now: u64) -> Result<bool> {
        check_key(key)?;
        self.update(now, |contents| {
            contents.expires.remove(key);
            Ok(contents.entries.remove(key).is_some())
        })
    }

    /// A locked read-modify-write of the user entries (expiry times kept as they are).
    pub fn modify<T>(&self, now: u64, change: impl FnOnce(&mut Entries) -> Result<T>) -> Result<T> {
        self.update(now, |contents| {
            let result = change(&mut contents.entries)?;
            let entries = &contents.entries;
            contents.expires.retain(|key, _| entries.contains_key(key));
            Ok(result)
        })
    }

    /// Reads without the lock: writers replace the file by rename, so a reader always sees a
    /// whole file, old or new.
    fn read(&self, now: u64) -> Result<Contents> {
        let mut contents = self.load()?;
        contents.purge_expired(now);
        Ok(contents)
    }

    /// The locked read-modify-write every change goes through (SPEC §4).
    fn update<T>(&self, now: u64, change: impl FnOnce(&mut Contents) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        atomic_file::remove_stale_temps(&self.path);
        let mut contents = self.load()?;
        contents.purge_expired(now);
        let result = change(&mut contents)?;
        let text = contents.to_json();
        atomic_file::replace(&self.path, text.as_bytes())
            .map_err(Error::file("write the memory file", &self.path))?;
        Ok(result)
    }

    fn lock(&self) -> Result<File> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(atomic_file::PRIVATE_FILE_MODE)
            .open(&self.lock_path)
            .map_err(Error::file("open the lock file", &self.lock_path))?;
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        path: self.path.clone(),
                        holder: format!("another process for over {}s", LOCK_WAIT.as_secs()),
                    });
                }
                Err(TryLockError::Error(error)) => {
                    return Err(Error::file("lock", &self.lock_path)(error));
                }
            }
        }
    }

    fn load(&self) -> Result<Contents> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(Error::file("read the memory file", &self.path)(error)),
        };
        Contents::parse(&text).map_err(|detail| Error::MemoryCorrupt {
            path: self.path.clone(),
            detail,
        })
    }
}

impl Contents {
    fn parse(text: &str) -> std::result::Result<Contents, String> {
        // An empty file holds nothing to lose, so it counts as an empty store.
        if text.trim().is_empty() {
            return Ok(Contents {
                entries: Map::new(),
                expires: Map::new(),
            });
        }
        let mut entries = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(other) => return Err(format!("it holds a JSON {}", json_kind(&other))),
            Err(error) => return Err(error.to_string()),
        };
        let expires = match entries.remove(META_KEY) {
            Some(Value::Object(mut meta)) => match meta.remove("expires") {
                Some(Value::Object(expires)) => expires,
                _ => Map::new(),
            },
            _ => Map::new(),
        };
        Ok(Contents { entries, expires })
    }

    fn purge_expired(&mut self, now: u64) {
        let expired: Vec<String> = self
            .expires
            .iter()
            .filter(|(_, at)| at.as_u64().is_none_or(|at| at <= now))
            .map(|(key, _)| key.clone())
            .collect();
        for key in expired {
            self.expires.remove(&key);
            self.entries.remove(&key);
        }
    }

    fn to_json(&self) -> String {
        let mut object = self.entries.clone();
        if !self.expires.is_empty() {
            let meta = serde_json::json!({ "expires": self.expires });
            object.insert(META_KEY.to_string(), meta);
        }
        let mut text = serde_json::to_string_pretty(&Value::Object(object))
            .expect("a JSON value always serialises");
        text.push('\n');
        text
    }
}

fn check_key(key: &str) -> Result<()> {
    if key == META_KEY {
        return Err(Error::Input(format!(
            "the memory key `{META_KEY}` is reserved for nanopy's own metadata; choose another key"
        )));
    }
    if key.is_empty() {
        return Err(Error::Input("a memory key cannot be empty".into()));
    }
    Ok(())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Parses a duration like `90s`, `15m`, `2h` or `7d`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let invalid = || {
        Error::Usage(format!(
            "invalid duration `{text}`: use a number with s, m, h or d, like `90s` or `7d`"
        ))
    };
    let unit_at = text.len().checked_sub(1).ok_or_else(invalid)?;
    let (number, unit) = text.split_at(unit_at);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    let total = number.checked_mul(seconds).ok_or_else(invalid)?;
    if total == 0 {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store(name: &str) -> Memory {
        let dir = std::env::temp_dir().join(format!("nanopy-mem-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Memory::open(&dir.join("memory.json"))
    }

    #[test]
    fn ttl_key_is_invisible_after_expiry_and_purged_on_next_write() {
        let memory = store("ttl");
        memory
            .set("short", json!("x"), Some(Duration::from_secs(60)), 1000)
            .unwrap();
        memory.set("long", json!(1), None, 1000).unwrap();
        assert_eq!(memory.get("short", 1059).unwrap(), Some(json!("x")));
        assert_eq!(memory.get("short", 1060).unwrap(), None);
        assert_eq!(memory.keys(1060).unwrap(), vec!["long"]);
        memory.set("other", json!(2), None, 1060).unwrap();
        let raw = std::fs::read_to_string(memory.path()).unwrap();
        assert!(!raw.contains("short"), "expired key not purged: {raw}");
        assert!(!raw.contains(META_KEY), "empty metadata kept: {raw}");
    }

    #[test]
    fn setting_without_ttl_clears_an_earlier_ttl() {
        let memory = store("clear-ttl");
        memory
            .set("k", json!(1), Some(Duration::from_secs(5)), 0)
            .unwrap();
        memory.set("k", json!(2), None, 1).unwrap();
        assert_eq!(memory.get("k", 100).unwrap(), Some(json!(2)));
    }

    #[test]
    fn python_file_loads_unchanged() {
        let memory = store("python");
        std::fs::write(memory.path(), r#"{"rules.last": "answer in English"}"#).unwrap();
        assert_eq!(
            memory.get("rules.last", 0).unwrap(),
            Some(json!("answer in English"))
        );
    }

    #[test]
    fn reserved_key_is_refused() {
        let memory = store("reserved");
        assert!(matches!(
            memory.set(META_KEY, json!(1), None, 0),
            Err(Error::Input(_))
        ));
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        for bad in ["", "s", "10", "5w", "-1s", "0s", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_memory_file_loads_or_is_refused_without_panicking(
            text in r#"(\PC{0,40}|\{("[a-z_.]{0,12}": ?("[a-z]*"|[0-9]{1,22}|\{"expires": ?\{("[a-z]": ?(-?[0-9]{1,22}|"x"|null),?)*\}\}|null|\[\]),? ?){0,5}\})"#,
            now in 0u64..u64::MAX,
        ) {
            if let Ok(mut contents) = Contents::parse(&text) {
                contents.purge_expired(now);
                let written = contents.to_json();
                proptest::prop_assert!(Contents::parse(&written).is_ok());
            }
        }
    }
}
