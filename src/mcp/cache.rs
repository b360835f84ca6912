//! The tool lists of MCP servers, kept in `<data dir>/mcp-tools.json` (0600) so that a turn
//! in which the model calls no MCP tool starts no server. An entry is used while it is
//! younger than [`MAX_AGE_SECS`] and its server's configuration is unchanged (a fingerprint
//! of it, never the configuration itself: headers and env may hold secrets).

use super::protocol::ServerTool;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// How long a listed set of tools is trusted.
pub const MAX_AGE_SECS: i64 = 24 * 3600;
const FORMAT_VERSION: i64 = 1;

/// One server's cached list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub fingerprint: String,
    pub fetched_at: i64,
    pub era: String,
    pub tools: Vec<ServerTool>,
}

/// The cache file, read whole.
#[derive(Debug, Default)]
pub struct Cache {
    path: PathBuf,
    entries: Map<String, Value>,
}

impl Cache {
    /// Reads the cache; a missing or unreadable file is an empty cache (it is only a cache).
    pub fn load(path: &Path) -> Cache {
        let entries = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .filter(|root| root["version"] == FORMAT_VERSION)
            .and_then(|root| root.get("servers")?.as_object().cloned())
            .unwrap_or_default();
        Cache {
            path: path.to_path_buf(),
            entries,
        }
    }

    /// The entry for `server` if it is fresh at `now` for this `fingerprint`.
    pub fn fresh(&self, server: &str, fingerprint: &str, now: i64) -> Option<Entry> {
        let entry = self.entries.get(server)?;
        let fetched_at = entry["fetched_at"].as_i64()?;
        let age = now - fetched_at;
        if entry["fingerprint"] != fingerprint || !(0..MAX_AGE_SECS).contains(&age) {
            return None;
        }
        let tools = entry["tools"]
            .as_array()?
            .iter()
            .map(|tool| {
                Some(ServerTool {
                    name: tool["name"].as_str()?.to_string(),
                    description: tool["description"].as_str().unwrap_or("").to_string(),
                    input_schema: tool["inputSchema"].clone(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Entry {
            fingerprint: fingerprint.to_string(),
            fetched_at,
            era: entry["era"].as_str().unwrap_or("").to_string(),
            tools,
        })
    }

    /// Records (or, with `None`, forgets) a server's list and writes the file.
    pub fn store(&mut self, server: &str, entry: Option<&Entry>) {
        match entry {
            Some(entry) => {
                let tools: Vec<Value> = entry
                    .tools
                    .iter()
                    .map(|tool| {
                        json!({
                            "name": tool.name,
                            "description": tool.description,
                            "inputSchema": tool.input_schema,
                        })
                    })
                    .collect();
                self.entries.insert(
                    server.to_string(),
                    json!({
                        "fingerprint": entry.fingerprint,
                        "fetched_at": entry.fetched_at,
                        "era": entry.era,
                        "tools": tools,
                    }),
                );
            }
            None => {
                self.entries.remove(server);
            }
        }
        let root = json!({"version": FORMAT_VERSION, "servers": self.entries});
        // Best effort: a cache that cannot be written costs the next turn a server start.
        if let Err(error) = crate::atomic_file::replace(&self.path, root.to_string().as_bytes()) {
            crate::notice::warning(&format!(
                "cannot write the MCP tool cache `{}`: {error}",
                self.path.display()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn entry(fingerprint: &str, fetched_at: i64) -> Entry {
        Entry {
            fingerprint: fingerprint.into(),
            fetched_at,
            era: "legacy".into(),
            tools: vec![ServerTool {
                name: "echo".into(),
                description: "Echoes".into(),
                input_schema: json!({"type": "object"}),
            }],
        }
    }

    #[test]
    fn an_entry_is_fresh_for_a_day_and_for_its_configuration_only() {
        let dir = crate::test_support::scratch_dir("mcp-cache");
        let path = dir.join("mcp-tools.json");
        let mut cache = Cache::load(&path);
        assert_eq!(cache.fresh("s", "f1", 1000), None);
        cache.store("s", Some(&entry("f1", 1000)));
        let cache = Cache::load(&path);
        assert_eq!(cache.fresh("s", "f1", 1000 + 60), Some(entry("f1", 1000)));
        assert_eq!(cache.fresh("s", "f2", 1060), None, "config changed");
        assert_eq!(cache.fresh("s", "f1", 1000 + MAX_AGE_SECS), None, "too old");
        assert_eq!(cache.fresh("s", "f1", 999 - 10), None, "clock went back");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_broken_file_is_an_empty_cache_and_forgetting_removes_an_entry() {
        let dir = crate::test_support::scratch_dir("mcp-cache-broken");
        let path = dir.join("mcp-tools.json");
        std::fs::write(&path, "{not json").unwrap();
        let mut cache = Cache::load(&path);
        assert_eq!(cache.fresh("s", "f", 0), None);
        cache.store("s", Some(&entry("f", 0)));
        cache.store("t", Some(&entry("f", 0)));
        cache.store("s", None);
        let cache = Cache::load(&path);
        assert_eq!(cache.fresh("s", "f", 1), None);
        assert!(cache.fresh("t", "f", 1).is_some());
    }
}
