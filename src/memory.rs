//! The memory store: one JSON object in a file, updated under a lock and written atomically.
//!
//! The file stays a plain `{"key": value}` object so the Python tool's files load unchanged and
//! other programs can read ours. Expiry times live under one reserved key, [`META_KEY`].
//!
//! Values are kept as the raw JSON text they were read as, borrowed from the file's text, and
//! only parsed when asked for: a write to a store of 10 000 keys then costs one scan of the file
//! instead of building and freeing a tree of every value (SPEC §7: ≤ 10 ms).

use crate::atomic_file;
use crate::error::{Error, Result};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// The reserved key holding our metadata: `{"expires": {"key": unix_seconds}}`.
pub const META_KEY: &str = "_nanopybot";

/// How long a writer waits for another writer before giving up with exit 3.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The key/value pairs of the store, without the metadata; values stay raw JSON text.
/// Kept as a vector sorted by key: built in one pass from a file that is (almost always)
/// already sorted, and searched by bisection.
#[derive(Debug, Default)]
pub struct Entries<'a> {
    pairs: Vec<(String, Cow<'a, RawValue>)>,
}

impl<'a> Entries<'a> {
    /// Entries from pairs in file order; for a key given twice the later one wins, as in
    /// any JSON parser.
    fn from_pairs(mut pairs: Vec<(String, Cow<'a, RawValue>)>) -> Entries<'a> {
        // A stable sort keeps file order among equal keys, so the last of each run wins.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut deduplicated: Vec<(String, Cow<'a, RawValue>)> = Vec::with_capacity(pairs.len());
        for pair in pairs {
            match deduplicated.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => deduplicated.push(pair),
            }
        }
        Entries {
            pairs: deduplicated,
        }
    }

    fn position(&self, key: &str) -> std::result::Result<usize, usize> {
        self.pairs
            .binary_search_by(|(probe, _)| probe.as_str().cmp(key))
    }

    /// The value of `key`, parsed.
    pub fn get(&self, key: &str) -> Option<Value> {
        let at = self.position(key).ok()?;
        Some(serde_json::from_str(self.pairs[at].1.get()).expect("stored values are valid JSON"))
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: &str, value: &Value) {
        let raw = serde_json::value::to_raw_value(value).expect("a JSON value always serialises");
        match self.position(key) {
            Ok(at) => self.pairs[at].1 = Cow::Owned(raw),
            Err(at) => self.pairs.insert(at, (key.to_string(), Cow::Owned(raw))),
        }
    }

    /// Removes `key`; returns whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        self.take(key).is_some()
    }

    /// Removes `key` and returns its raw value.
    fn take(&mut self, key: &str) -> Option<Cow<'a, RawValue>> {
        let at = self.position(key).ok()?;
        Some(self.pairs.remove(at).1)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// The keys, sorted.
    fn into_keys(self) -> Vec<String> {
        self.pairs.into_iter().map(|(key, _)| key).collect()
    }
}

/// A JSON object read as (key, raw value) pairs in file order, without building a map.
struct Pairs<'a>(Vec<(String, Cow<'a, RawValue>)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Pairs<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> std::result::Result<Pairs<'a>, M::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    pairs.push((key, Cow::Borrowed(value)));
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

/// A handle on the memory file; cheap, holds no open file between calls.
#[derive(Debug, Clone)]
pub struct Memory {
    path: PathBuf,
    lock_path: PathBuf,
}

/// The file's content split into user entries and expiry times.
struct Contents<'a> {
    entries: Entries<'a>,
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
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of `key`, unless it is absent or expired at `now` (Unix seconds).
    pub fn get(&self, key: &str, now: i64) -> Result<Option<Value>> {
        self.inspect(now, |entries| entries.get(key))
    }

    /// All live keys at `now`, sorted.
    pub fn keys(&self, now: i64) -> Result<Vec<String>> {
        let text = self.load_text()?;
        Ok(self.parse(&text, now)?.entries.into_keys())
    }

    /// Reads several entries from one look at the file.
    pub fn inspect<T>(&self, now: i64, look: impl FnOnce(&Entries) -> T) -> Result<T> {
        let text = self.load_text()?;
        Ok(look(&self.parse(&text, now)?.entries))
    }

    /// Sets `key` to `value`, expiring `ttl` after `now` if given.
    pub fn set(&self, key: &str, value: Value, ttl: Option<Duration>, now: i64) -> Result<()> {
        check_key(key)?;
        self.update(now, |contents| {
            contents.entries.insert(key, &value);
            match ttl {
                Some(ttl) => contents.expires.insert(
                    key.to_string(),
                    Value::from(now.saturating_add(ttl.as_secs() as i64)),
                ),
                None => contents.expires.remove(key),
            };
            Ok(())
        })
    }

    /// Removes `key`; returns whether it was there.
    pub fn delete(&self, key: &str, now: i64) -> Result<bool> {
        check_key(key)?;
        self.update(now, |contents| {
            contents.expires.remove(key);
            Ok(contents.entries.remove(key))
        })
    }

    /// A locked read-modify-write of the user entries (expiry times kept as they are).
    pub fn modify<T>(&self, now: i64, change: impl FnOnce(&mut Entries) -> Result<T>) -> Result<T> {
        self.update(now, |contents| {
            let result = change(&mut contents.entries)?;
            let entries = &contents.entries;
            contents.expires.retain(|key, _| entries.contains(key));
            Ok(result)
        })
    }

    /// Parses `text` (read without the lock: writers replace the file by rename, so a reader
    /// always sees a whole file, old or new) and hides what has expired at `now`.
    fn parse<'a>(&self, text: &'a str, now: i64) -> Result<Contents<'a>> {
        let mut contents = Contents::parse(text).map_err(|detail| Error::MemoryCorrupt {
            path: self.path.clone(),
            detail,
        })?;
        contents.purge_expired(now);
        Ok(contents)
    }

    /// The locked read-modify-write every change goes through (SPEC §4).
    fn update<T>(&self, now: i64, change: impl FnOnce(&mut Contents) -> Result<T>) -> Result<T> {
        let _lock = self.lock()?;
        atomic_file::remove_stale_temps(&self.path);
        let text = self.load_text()?;
        let mut contents = self.parse(&text, now)?;
        let result = change(&mut contents)?;
        let text = contents.to_json();
        atomic_file::replace(&self.path, text.as_bytes())
            .map_err(Error::file("write the memory file", &self.path))?;
        Ok(result)
    }

    fn lock(&self) -> Result<File> {
        let file = atomic_file::open_private(&self.lock_path)
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

    /// The file's text; a missing file reads as empty.
    fn load_text(&self) -> Result<String> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(error) => Err(Error::file("read the memory file", &self.path)(error)),
        }
    }
}

impl<'a> Contents<'a> {
    fn parse(text: &'a str) -> std::result::Result<Contents<'a>, String> {
        // An empty file holds nothing to lose, so it counts as an empty store.
        if text.trim().is_empty() {
            return Ok(Contents {
                entries: Entries::default(),
                expires: Map::new(),
            });
        }
        let mut entries = match serde_json::from_str::<Pairs>(text) {
            Ok(Pairs(pairs)) => Entries::from_pairs(pairs),
            // Only on failure do we parse it all, to say what the file holds instead.
            Err(error) => {
                return Err(match serde_json::from_str::<Value>(text) {
                    Ok(other) => format!("it holds a JSON {}", json_kind(&other)),
                    Err(_) => error.to_string(),
                });
            }
        };
        let expires = entries
            .take(META_KEY)
            .and_then(|meta| serde_json::from_str::<Value>(meta.get()).ok())
            .and_then(|mut meta| match meta.get_mut("expires").map(Value::take) {
                Some(Value::Object(expires)) => Some(expires),
                _ => None,
            })
            .unwrap_or_default();
        Ok(Contents { entries, expires })
    }

    fn purge_expired(&mut self, now: i64) {
        let expired: Vec<String> = self
            .expires
            .iter()
            .filter(|(_, at)| at.as_i64().is_none_or(|at| at <= now))
            .map(|(key, _)| key.clone())
            .collect();
        for key in expired {
            self.expires.remove(&key);
            self.entries.remove(&key);
        }
    }

    /// The file's text: one key per line, values as they were (new ones compact), the
    /// metadata key in its sorted place.
    fn to_json(&self) -> String {
        let meta = (!self.expires.is_empty())
            .then(|| serde_json::json!({ "expires": self.expires }).to_string());
        let mut items: Vec<(&str, &str)> = self
            .entries
            .pairs
            .iter()
            .map(|(key, value)| (key.as_str(), value.get()))
            .collect();
        if let Some(meta) = &meta {
            let at = items.partition_point(|(key, _)| *key < META_KEY);
            items.insert(at, (META_KEY, meta.as_str()));
        }
        let size: usize = items.iter().map(|(k, v)| k.len() + v.len() + 8).sum();
        let mut text = String::with_capacity(size + 4);
        text.push('{');
        for (n, (key, value)) in items.iter().enumerate() {
            text.push_str(if n == 0 { "\n  " } else { ",\n  " });
            text.push_str(&serde_json::to_string(key).expect("strings serialise"));
            text.push_str(": ");
            text.push_str(value);
        }
        text.push_str(if items.is_empty() { "}\n" } else { "\n}\n" });
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

/// Parses a TTL like `90s`, `15m`, `2h` or `7d`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    crate::duration::parse(text).map_err(Error::Usage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store(name: &str) -> Memory {
        Memory::open(&crate::test_support::scratch_dir(name).join("memory.json"))
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
    fn keys_with_escapes_load_and_survive_a_write() {
        let memory = store("escapes");
        std::fs::write(memory.path(), r#"{"caf\u00e9": 1, "tab\tkey": "x"}"#).unwrap();
        assert_eq!(memory.get("café", 0).unwrap(), Some(json!(1)));
        memory.set("plain", json!(2), None, 0).unwrap();
        assert_eq!(memory.keys(0).unwrap(), vec!["café", "plain", "tab\tkey"]);
        assert_eq!(memory.get("tab\tkey", 0).unwrap(), Some(json!("x")));
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_like_any_json_parser() {
        let memory = store("duplicates");
        std::fs::write(memory.path(), r#"{"b": 1, "a": 2, "b": 3}"#).unwrap();
        assert_eq!(memory.get("b", 0).unwrap(), Some(json!(3)));
        memory.set("c", json!(4), None, 0).unwrap();
        assert_eq!(memory.keys(0).unwrap(), vec!["a", "b", "c"]);
        assert_eq!(memory.get("b", 0).unwrap(), Some(json!(3)));
    }

    #[test]
    fn reserved_key_is_refused() {
        let memory = store("reserved");
        assert!(matches!(
            memory.set(META_KEY, json!(1), None, 0),
            Err(Error::Input(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_memory_file_loads_or_is_refused_without_panicking(
            text in r#"(\PC{0,40}|\{("[a-z_.]{0,12}": ?("[a-z]*"|[0-9]{1,22}|\{"expires": ?\{("[a-z]": ?(-?[0-9]{1,22}|"x"|null),?)*\}\}|null|\[\]),? ?){0,5}\})"#,
            now in 0i64..i64::MAX,
        ) {
            if let Ok(mut contents) = Contents::parse(&text) {
                contents.purge_expired(now);
                let written = contents.to_json();
                proptest::prop_assert!(Contents::parse(&written).is_ok());
            }
        }
    }
}
