//! Where our files live, the config file and its defaults, and the environment overrides.

use crate::atomic_file;
use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::Value;
use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The data directory holds keys and memory, so only the owner may enter it.
const DATA_DIR_MODE: u32 = 0o700;

const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const DEFAULT_MODEL: &str = "gpt-4o-mini";
const DEFAULT_SYSTEM_PROMPT: &str = "You are nanopybot, a concise and helpful assistant.";
const DEFAULT_TIMEOUT_SECS: u64 = 120;
const DEFAULT_MAX_RETRIES: u32 = 2;
const DEFAULT_SHELL_TIMEOUT_SECS: u64 = 30;
/// The most input (piped stdin, files, pages) one turn takes: 1 MiB (SPEC §3.0).
const DEFAULT_INPUT_BYTES: u64 = 1024 * 1024;
/// How long the log keeps a turn (SPEC §8).
const DEFAULT_LOG_KEEP_DAYS: u64 = 90;
/// How much of a conversation goes with a continued turn, in characters (SPEC §8).
const DEFAULT_CONTEXT_CHARS: usize = 24_000;

/// The file written on first run: every key with its default, so users see what they can set.
const DEFAULT_CONFIG_FILE: &str = r#"{
  "provider": {
    "api_key": "",
    "base_url": "https://api.openai.com/v1",
    "model": "gpt-4o-mini",
    "timeout_secs": 120,
    "max_retries": 2
  },
  "system_prompt": "You are nanopybot, a concise and helpful assistant.",
  "memory_path": "memory.json",
  "scheduler_db_path": "jobs.sqlite",
  "log_path": "log.sqlite"
}
"#;

/// The effective configuration: file, environment and built-in defaults merged.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub config_path: PathBuf,
    /// The `provider` object: the provider named `default`.
    pub provider: ProviderConfig,
    /// `providers`, by name (sorted).
    pub providers: Vec<ProviderConfig>,
    /// The provider a turn uses when nothing picks another.
    pub default_provider: String,
    /// Providers tried in order when the chosen one fails in a way another could fix.
    pub fallback: Vec<String>,
    pub aliases: Vec<Alias>,
    pub system_prompt: String,
    pub memory_path: PathBuf,
    pub scheduler_db_path: PathBuf,
    /// Exact command lines the `shell` tool may run; empty means the tool does not exist.
    pub shell_allow: Vec<String>,
    pub shell_timeout_secs: u64,
    /// The most bytes of input (stdin, files, URLs) a turn accepts (`limits.input_bytes`).
    pub input_bytes: u64,
    /// The conversation log (`log_path`, `log.*`).
    pub log: LogConfig,
    /// The most prompt plus completion tokens of one local day (`limits.daily_tokens`).
    pub daily_tokens: Option<u64>,
    /// MCP servers (`mcp`), by name (sorted), disabled ones included.
    pub mcp: Vec<McpServer>,
}

/// One MCP server of the `mcp` object (SPEC §10).
#[derive(Debug, Clone, PartialEq)]
pub struct McpServer {
    pub name: String,
    pub launch: McpLaunch,
    /// `tools`: only these of its tools are offered; `None` offers all.
    pub tools: Option<Vec<String>>,
    pub disabled: bool,
    pub startup_timeout_secs: u64,
    pub tool_timeout_secs: u64,
    /// Changes whenever anything in its entry changes; keys the tool cache.
    pub fingerprint: String,
}

/// How an MCP server is reached.
#[derive(Debug, Clone, PartialEq)]
pub enum McpLaunch {
    /// A child process speaking JSON-RPC on stdin and stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: std::collections::BTreeMap<String, String>,
    },
    /// A Streamable HTTP endpoint.
    Http {
        url: String,
        headers: std::collections::BTreeMap<String, String>,
    },
}

/// The keys of one `mcp` entry.
const MCP_KEYS: &[&str] = &[
    "command",
    "args",
    "env",
    "url",
    "headers",
    "tools",
    "disabled",
    "startup_timeout_secs",
    "tool_timeout_secs",
];
const DEFAULT_MCP_STARTUP_TIMEOUT_SECS: u64 = 30;
const DEFAULT_MCP_TOOL_TIMEOUT_SECS: u64 = 60;

/// Where turns are recorded, for how long, and how much history a continued turn sends.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub path: PathBuf,
    /// `false` records nothing; then sessions and the token budget cannot work.
    pub enabled: bool,
    pub keep_days: u64,
    pub context_chars: usize,
}

/// How to reach one chat-completions endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    /// `default` for the `provider` object, else its key in `providers`.
    pub name: String,
    /// The key, from the config, the environment or `api_key_env`; empty when none (or when
    /// it comes from `api_key_cmd`, which runs only when the provider is called).
    pub api_key: String,
    /// `api_key_cmd`: run with `sh -c` when the provider is called; stdout is the key.
    pub api_key_cmd: Option<String>,
    /// Where the key comes from, for `config` and `doctor`: never the key itself.
    pub key_source: String,
    pub base_url: String,
    pub model: String,
    pub timeout_secs: u64,
    pub max_retries: u32,
}

/// `aliases`: a short name for a provider and a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub name: String,
    pub provider: String,
    pub model: String,
}

/// One provider of a turn's chain, with the model to ask it for.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub provider: ProviderConfig,
    pub model: String,
}

/// The config file as written; every key optional, `null` meaning "use the default".
#[derive(Deserialize, Default)]
#[serde(default)]
struct FileConfig {
    provider: FileProvider,
    providers: std::collections::BTreeMap<String, FileProvider>,
    default_provider: Option<String>,
    fallback: Vec<String>,
    aliases: std::collections::BTreeMap<String, FileAlias>,
    system_prompt: Option<String>,
    memory_path: Option<String>,
    scheduler_db_path: Option<String>,
    log_path: Option<String>,
    log: FileLog,
    tools: FileTools,
    limits: FileLimits,
    /// Checked by hand after parsing, so an error can name the entry's line and column.
    mcp: std::collections::BTreeMap<String, Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileLimits {
    input_bytes: Option<u64>,
    daily_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileLog {
    enabled: Option<bool>,
    keep_days: Option<u64>,
    context_chars: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileProvider {
    api_key: Option<String>,
    api_key_env: Option<String>,
    api_key_cmd: Option<String>,
    base_url: Option<String>,
    model: Option<String>,
    timeout_secs: Option<u64>,
    max_retries: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileAlias {
    provider: Option<String>,
    model: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileTools {
    shell: FileShell,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FileShell {
    allow: Vec<String>,
    timeout_secs: Option<u64>,
}

/// The keys of a provider object (`provider`, each of `providers`).
const PROVIDER_KEYS: &[&str] = &[
    "api_key",
    "api_key_env",
    "api_key_cmd",
    "base_url",
    "model",
    "timeout_secs",
    "max_retries",
];

/// Known keys per object, for the unknown-key warning; a nested object is listed by its path.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "provider",
            "providers",
            "default_provider",
            "fallback",
            "aliases",
            "system_prompt",
            "memory_path",
            "scheduler_db_path",
            "log_path",
            "log",
            "tools",
            "limits",
            "mcp",
        ],
    ),
    ("provider", PROVIDER_KEYS),
    ("tools", &["shell"]),
    ("limits", &["input_bytes", "daily_tokens"]),
    ("log", &["enabled", "keep_days", "context_chars"]),
    ("tools.shell", &["allow", "timeout_secs"]),
];

impl Config {
    /// Loads the configuration for this process: data directory from `NANOPYBOT_HOME` or the
    /// home directory, environment overrides from the real environment.
    pub fn load() -> Result<Config> {
        Config::load_with(&|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Loads the configuration with `env` standing in for the environment, so tests can
    /// check precedence without touching the process environment.
    pub fn load_with(env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
        let data_dir = data_dir(env)?;
        DirBuilder::new()
            .recursive(true)
            .mode(DATA_DIR_MODE)
            .create(&data_dir)
            .map_err(Error::file("create the data directory", &data_dir))?;
        let config_path = data_dir.join("config.json");
        let (mut file, text) = read_or_create(&config_path)?;
        let mcp = std::mem::take(&mut file.mcp);
        let mut config = Config::merge(data_dir, config_path, file, env);
        config.check_providers(&text)?;
        config.mcp = mcp_servers(&config.config_path, &text, mcp)?;
        if config.daily_tokens.is_some() && !config.log.enabled {
            return Err(Error::Config(format!(
                "`{}`: `limits.daily_tokens` counts the tokens recorded in the log, which \
                 `\"log\": {{\"enabled\": false}}` turns off; remove one of the two",
                config.config_path.display()
            )));
        }
        Ok(config)
    }

    fn merge(
        data_dir: PathBuf,
        config_path: PathBuf,
        file: FileConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Config {
        let first = |names: &[&'static str]| {
            names
                .iter()
                .find_map(|name| env(name).map(|value| (value, *name)))
        };
        // The environment overrides apply to the `provider` object alone (SPEC §1): a key
        // from the environment never goes to a server it was not meant for.
        let mut default = file.provider;
        let env_key = first(&["NANOPY_API_KEY", "OPENAI_API_KEY"]);
        if let Some((_, var)) = &env_key {
            default.api_key_cmd = None;
            default.api_key_env = Some(var.to_string());
        }
        if let Some((url, _)) = first(&["NANOPY_BASE_URL", "OPENAI_BASE_URL"]) {
            default.base_url = Some(url);
        }
        if let Some((model, _)) = first(&["NANOPY_MODEL"]) {
            default.model = Some(model);
        }
        let provider = provider_config(DEFAULT_PROVIDER.into(), default, env);
        let providers = file
            .providers
            .into_iter()
            .map(|(name, entry)| provider_config(name, entry, env))
            .collect();
        let aliases = file
            .aliases
            .into_iter()
            .map(|(name, alias)| Alias {
                name,
                provider: alias.provider.unwrap_or_default(),
                model: alias.model.unwrap_or_default(),
            })
            .collect();
        let resolve = |value: Option<String>, default: &str| {
            resolve_path(&data_dir, value.as_deref().unwrap_or(default), env)
        };
        Config {
            memory_path: resolve(file.memory_path, "memory.json"),
            scheduler_db_path: resolve(file.scheduler_db_path, "jobs.sqlite"),
            system_prompt: file
                .system_prompt
                .unwrap_or_else(|| DEFAULT_SYSTEM_PROMPT.to_string()),
            shell_allow: file.tools.shell.allow,
            shell_timeout_secs: file
                .tools
                .shell
                .timeout_secs
                .unwrap_or(DEFAULT_SHELL_TIMEOUT_SECS),
            input_bytes: file.limits.input_bytes.unwrap_or(DEFAULT_INPUT_BYTES),
            default_provider: file
                .default_provider
                .unwrap_or_else(|| DEFAULT_PROVIDER.to_string()),
            fallback: file.fallback,
            providers,
            aliases,
            log: LogConfig {
                path: resolve(file.log_path, "log.sqlite"),
                enabled: file.log.enabled.unwrap_or(true),
                keep_days: file.log.keep_days.unwrap_or(DEFAULT_LOG_KEEP_DAYS),
                context_chars: file.log.context_chars.unwrap_or(DEFAULT_CONTEXT_CHARS),
            },
            daily_tokens: file.limits.daily_tokens,
            mcp: Vec::new(),
            provider,
            data_dir,
            config_path,
        }
    }

    /// The provider called `name`; `default` is the `provider` object.
    pub fn provider_named(&self, name: &str) -> Option<&ProviderConfig> {
        if name == DEFAULT_PROVIDER {
            return Some(&self.provider);
        }
        self.providers.iter().find(|provider| provider.name == name)
    }

    /// Every provider: `default` first, then the named ones.
    pub fn all_providers(&self) -> impl Iterator<Item = &ProviderConfig> {
        std::iter::once(&self.provider).chain(&self.providers)
    }

    /// The names a user may give to `--provider`, for error messages.
    fn provider_names(&self) -> String {
        let names: Vec<&str> = self.all_providers().map(|p| p.name.as_str()).collect();
        names.join(", ")
    }

    /// The chain of providers a turn tries, in order: the chosen one (by `--provider`, by an
    /// alias given as the model, else `default_provider`) with its model, then each of
    /// `fallback` with its own model. An unknown provider is exit 2, naming the known ones.
    pub fn route(&self, provider: Option<&str>, model: Option<&str>) -> Result<Vec<Route>> {
        let alias = model.and_then(|model| self.aliases.iter().find(|a| a.name == model));
        if let (Some(alias), Some(provider)) = (alias, provider)
            && alias.provider != provider
        {
            return Err(Error::Usage(format!(
                "alias `{}` means provider `{}`, not `{provider}`: give the alias or --provider",
                alias.name, alias.provider
            )));
        }
        let name = provider
            .or(alias.map(|a| a.provider.as_str()))
            .unwrap_or(&self.default_provider);
        let chosen = self.provider_named(name).ok_or_else(|| {
            Error::Usage(format!(
                "unknown provider `{name}`; the config has: {}",
                self.provider_names()
            ))
        })?;
        let chosen_model = match (alias, model) {
            (Some(alias), _) => alias.model.clone(),
            (None, Some(model)) => model.to_string(),
            (None, None) => chosen.model.clone(),
        };
        let mut routes = vec![Route {
            provider: chosen.clone(),
            model: chosen_model,
        }];
        for name in &self.fallback {
            if routes.iter().any(|route| &route.provider.name == name) {
                continue;
            }
            if let Some(provider) = self.provider_named(name) {
                routes.push(Route {
                    provider: provider.clone(),
                    model: provider.model.clone(),
                });
            }
        }
        Ok(routes)
    }

    /// Checks the names that tie providers together (`default_provider`, `fallback`,
    /// `aliases`) and that every named provider has a `base_url`; an error names the file,
    /// line and column, like a syntax error.
    fn check_providers(&self, text: &str) -> Result<()> {
        let fail = |path: &[&str], message: String| {
            let (line, column) = locate(text, path);
            Err(Error::ConfigSyntax {
                path: self.config_path.clone(),
                line,
                column,
                message,
            })
        };
        let known = self.provider_names();
        if self.providers.iter().any(|p| p.name == DEFAULT_PROVIDER) {
            return fail(
                &["providers", DEFAULT_PROVIDER],
                "`providers` cannot define `default`: that is the `provider` object".into(),
            );
        }
        if let Some(provider) = self.providers.iter().find(|p| !has_base_url(text, &p.name)) {
            return fail(
                &["providers", &provider.name],
                format!("provider `{}` needs a `base_url`", provider.name),
            );
        }
        if self.provider_named(&self.default_provider).is_none() {
            return fail(
                &["default_provider"],
                format!(
                    "`default_provider` names `{}`, which is not a provider (known: {known})",
                    self.default_provider
                ),
            );
        }
        if let Some(name) = self
            .fallback
            .iter()
            .find(|n| self.provider_named(n).is_none())
        {
            return fail(
                &["fallback", name],
                format!("`fallback` names `{name}`, which is not a provider (known: {known})"),
            );
        }
        for alias in &self.aliases {
            if self.provider_named(&alias.provider).is_none() {
                return fail(
                    &["aliases", &alias.name],
                    format!(
                        "alias `{}` names provider `{}`, which is not one (known: {known})",
                        alias.name, alias.provider
                    ),
                );
            }
            if alias.model.is_empty() {
                return fail(
                    &["aliases", &alias.name],
                    format!("alias `{}` needs a `model`", alias.name),
                );
            }
        }
        Ok(())
    }

    /// The effective configuration as JSON, with every key redacted, for `nanopy config`.
    pub fn to_redacted_json(&self) -> Value {
        let shown = |provider: &ProviderConfig| {
            serde_json::json!({
                "api_key": provider.key_source,
                "base_url": provider.base_url,
                "model": provider.model,
                "timeout_secs": provider.timeout_secs,
                "max_retries": provider.max_retries,
            })
        };
        let providers: serde_json::Map<String, Value> = self
            .providers
            .iter()
            .map(|provider| (provider.name.clone(), shown(provider)))
            .collect();
        let aliases: serde_json::Map<String, Value> = self
            .aliases
            .iter()
            .map(|alias| {
                let target = serde_json::json!({"provider": alias.provider, "model": alias.model});
                (alias.name.clone(), target)
            })
            .collect();
        serde_json::json!({
            "data_dir": self.data_dir,
            "config_path": self.config_path,
            "provider": shown(&self.provider),
            "providers": providers,
            "default_provider": self.default_provider,
            "fallback": self.fallback,
            "aliases": aliases,
            "system_prompt": self.system_prompt,
            "memory_path": self.memory_path,
            "scheduler_db_path": self.scheduler_db_path,
            "tools": { "shell": { "allow": self.shell_allow, "timeout_secs": self.shell_timeout_secs } },
            "log_path": self.log.path,
            "log": {
                "enabled": self.log.enabled,
                "keep_days": self.log.keep_days,
                "context_chars": self.log.context_chars,
            },
            "limits": { "input_bytes": self.input_bytes, "daily_tokens": self.daily_tokens },
            "mcp": self.mcp.iter().map(|server| (server.name.clone(), redacted_mcp(server)))
                .collect::<serde_json::Map<String, Value>>(),
        })
    }
}

/// An MCP entry for `config` and `doctor`: header and environment values are redacted,
/// because they are where tokens live.
fn redacted_mcp(server: &McpServer) -> Value {
    let redact =
        |map: &std::collections::BTreeMap<String, String>| -> serde_json::Map<String, Value> {
            map.keys()
                .map(|key| (key.clone(), Value::String("(redacted)".into())))
                .collect()
        };
    let mut entry = match &server.launch {
        McpLaunch::Stdio { command, args, env } => {
            serde_json::json!({"command": command, "args": args, "env": redact(env)})
        }
        McpLaunch::Http { url, headers } => {
            serde_json::json!({"url": url, "headers": redact(headers)})
        }
    };
    entry["tools"] = serde_json::json!(server.tools);
    entry["disabled"] = Value::Bool(server.disabled);
    entry["startup_timeout_secs"] = server.startup_timeout_secs.into();
    entry["tool_timeout_secs"] = server.tool_timeout_secs.into();
    entry
}

/// Checks and reads the `mcp` entries; an error names the file, line and column.
fn mcp_servers(
    path: &Path,
    text: &str,
    entries: std::collections::BTreeMap<String, Value>,
) -> Result<Vec<McpServer>> {
    let mut servers = Vec::new();
    for (name, entry) in entries {
        let fail = |key: Option<&str>, message: String| {
            let mut at = vec!["mcp", name.as_str()];
            at.extend(key);
            let (line, column) = locate(text, &at);
            Error::ConfigSyntax {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        if name.trim().is_empty() {
            return Err(fail(None, "an MCP server needs a name".into()));
        }
        let Value::Object(map) = &entry else {
            return Err(fail(None, format!("MCP server `{name}` must be an object")));
        };
        let string = |key: &str| -> Result<Option<String>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(value)) if !value.trim().is_empty() => Ok(Some(value.clone())),
                Some(_) => Err(fail(
                    Some(key),
                    format!("`mcp.{name}.{key}` must be a non-empty string"),
                )),
            }
        };
        let strings = |key: &str| -> Result<Option<Vec<String>>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(Some(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                )),
                Some(_) => Err(fail(
                    Some(key),
                    format!("`mcp.{name}.{key}` must be a list of strings"),
                )),
            }
        };
        let table = |key: &str| -> Result<std::collections::BTreeMap<String, String>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(Default::default()),
                Some(Value::Object(items)) if items.values().all(Value::is_string) => Ok(items
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()),
                Some(_) => Err(fail(
                    Some(key),
                    format!("`mcp.{name}.{key}` must be an object of strings"),
                )),
            }
        };
        let seconds = |key: &str, default: u64| -> Result<u64> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(value) => value.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                    fail(
                        Some(key),
                        format!("`mcp.{name}.{key}` must be a whole number of seconds above 0"),
                    )
                }),
            }
        };
        let launch = match (string("command")?, string("url")?) {
            (Some(command), None) => McpLaunch::Stdio {
                command,
                args: strings("args")?.unwrap_or_default(),
                env: table("env")?,
            },
            (None, Some(url)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(fail(
                        Some("url"),
                        format!("`mcp.{name}.url` must start with http:// or https://"),
                    ));
                }
                McpLaunch::Http {
                    url,
                    headers: table("headers")?,
                }
            }
            _ => {
                return Err(fail(
                    None,
                    format!(
                        "MCP server `{name}` needs exactly one of `command` (stdio) or `url` (HTTP)"
                    ),
                ));
            }
        };
        let disabled = match map.get("disabled") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => {
                return Err(fail(
                    Some("disabled"),
                    format!("`mcp.{name}.disabled` must be true or false"),
                ));
            }
        };
        servers.push(McpServer {
            tools: strings("tools")?,
            disabled,
            startup_timeout_secs: seconds(
                "startup_timeout_secs",
                DEFAULT_MCP_STARTUP_TIMEOUT_SECS,
            )?,
            tool_timeout_secs: seconds("tool_timeout_secs", DEFAULT_MCP_TOOL_TIMEOUT_SECS)?,
            fingerprint: fingerprint(&entry),
            launch,
            name,
        });
    }
    Ok(servers)
}

/// A fingerprint of a configuration value: FNV-1a (64 bits) of its JSON (keys sorted), hex.
fn fingerprint(value: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Whether the file gives `providers.<name>.base_url` (a named provider has no default).
fn has_base_url(text: &str, name: &str) -> bool {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|root| root.get("providers")?.get(name)?.get("base_url").cloned())
        .is_some_and(|url| url.is_string())
}

/// The line and column (1-based) of the JSON string `path[last]` found after each earlier
/// element of `path` in turn: where a config error about that value points. A plain text
/// search, enough for a file we already parsed; `(1, 1)` when nothing matches.
fn locate(text: &str, path: &[&str]) -> (usize, usize) {
    let mut from = 0;
    let mut at = None;
    for part in path {
        let needle = Value::String(part.to_string()).to_string();
        match text[from..].find(&needle) {
            Some(offset) => {
                at = Some(from + offset);
                from += offset + needle.len();
            }
            None => break,
        }
    }
    let Some(at) = at else {
        return (1, 1);
    };
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, column)
}

/// The name of the `provider` object.
pub const DEFAULT_PROVIDER: &str = "default";

/// A provider from its file entry; the key is read from the config or `api_key_env` now,
/// while `api_key_cmd` waits until the provider is called.
fn provider_config(
    name: String,
    file: FileProvider,
    env: &dyn Fn(&str) -> Option<String>,
) -> ProviderConfig {
    let inline = file.api_key.filter(|key| !key.is_empty());
    let (api_key, api_key_cmd, key_source) = if let Some(var) = file.api_key_env {
        match env(&var) {
            Some(key) => (
                key,
                None,
                format!("(from environment variable {var}, redacted)"),
            ),
            None => (
                String::new(),
                None,
                format!("(environment variable {var} is not set)"),
            ),
        }
    } else if let Some(key) = inline {
        (key, None, "(in the config file, redacted)".to_string())
    } else if let Some(command) = file.api_key_cmd.filter(|c| !c.trim().is_empty()) {
        (
            String::new(),
            Some(command),
            "(from api_key_cmd when called)".to_string(),
        )
    } else {
        (String::new(), None, "(none)".to_string())
    };
    ProviderConfig {
        name,
        api_key,
        api_key_cmd,
        key_source,
        base_url: file
            .base_url
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
        model: file.model.unwrap_or_else(|| DEFAULT_MODEL.to_string()),
        timeout_secs: file.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS),
        max_retries: file.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
    }
}

fn data_dir(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
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

fn resolve_path(data_dir: &Path, value: &str, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let path = expand_home(value, env);
    if path.is_absolute() {
        path
    } else {
        data_dir.join(path)
    }
}

/// Reads the config file, writing the defaults first if there is none. A broken file is an
/// error naming the line and column, and is never replaced.
fn read_or_create(path: &Path) -> Result<(FileConfig, String)> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            atomic_file::create_new(path, DEFAULT_CONFIG_FILE.as_bytes())
                .map_err(Error::file("create the config file", path))?;
            std::fs::read_to_string(path).map_err(Error::file("read the config file", path))?
        }
        Err(error) => {
            return Err(Error::File {
                action: "read the config file",
                path: path.to_path_buf(),
                source: error,
            });
        }
    };
    Ok((parse(path, &text)?, text))
}

fn parse(path: &Path, text: &str) -> Result<FileConfig> {
    let syntax_error = |error: serde_json::Error| Error::ConfigSyntax {
        path: path.to_path_buf(),
        line: error.line(),
        column: error.column(),
        message: crate::error::json_error_text(&error),
    };
    let file: FileConfig = serde_json::from_str(text).map_err(syntax_error)?;
    // Typed parsing succeeded, so this parse does too; it only serves the unknown-key check.
    let value: Value = serde_json::from_str(text).map_err(syntax_error)?;
    let unknown = unknown_keys(&value);
    if !unknown.is_empty() {
        crate::notice::warning(&format!(
            "unknown key{} in `{}`: {} (ignored)",
            if unknown.len() == 1 { "" } else { "s" },
            path.display(),
            unknown.join(", ")
        ));
    }
    Ok(file)
}

fn unknown_keys(root: &Value) -> Vec<String> {
    let mut unknown = Vec::new();
    for (section, known) in [
        ("providers", PROVIDER_KEYS),
        ("mcp", MCP_KEYS),
        ("aliases", &["provider", "model"][..]),
    ] {
        if let Some(Value::Object(entries)) = root.get(section) {
            for (name, entry) in entries {
                if let Value::Object(map) = entry {
                    for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
                        unknown.push(format!("{section}.{name}.{key}"));
                    }
                }
            }
        }
    }
    for (prefix, known) in KNOWN_KEYS {
        let object = prefix
            .split('.')
            .filter(|part| !part.is_empty())
            .try_fold(root, |value, part| value.get(part));
        if let Some(Value::Object(map)) = object {
            for key in map.keys().filter(|key| !known.contains(&key.as_str())) {
                unknown.push(if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                });
            }
        }
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(file: &str, vars: &[(&str, &str)]) -> Config {
        let file = parse(Path::new("config.json"), file).unwrap();
        let env = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        Config::merge(
            PathBuf::from("/data"),
            PathBuf::from("/data/config.json"),
            file,
            &env,
        )
    }

    const GRAPH: &str = r#"{
        "provider": {"base_url": "http://d/v1", "model": "d-model"},
        "providers": {
            "local": {"base_url": "http://l/v1", "model": "l-model"},
            "cloud": {"base_url": "http://c/v1", "model": "c-model"}
        },
        "default_provider": "local",
        "fallback": ["local", "cloud", "default"],
        "aliases": {"smart": {"provider": "cloud", "model": "big"}}
    }"#;

    fn chain(config: &Config, provider: Option<&str>, model: Option<&str>) -> Vec<String> {
        config
            .route(provider, model)
            .unwrap()
            .iter()
            .map(|route| format!("{}:{}", route.provider.name, route.model))
            .collect()
    }

    #[test]
    fn the_chain_is_the_chosen_provider_then_each_fallback_once_with_its_own_model() {
        let config = merged(GRAPH, &[]);
        config.check_providers(GRAPH).unwrap();
        assert_eq!(
            chain(&config, None, None),
            ["local:l-model", "cloud:c-model", "default:d-model"]
        );
        assert_eq!(
            chain(&config, Some("cloud"), Some("other")),
            ["cloud:other", "local:l-model", "default:d-model"]
        );
        assert_eq!(chain(&config, None, Some("smart"))[0], "cloud:big");
        let error = config.route(Some("local"), Some("smart")).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn environment_overrides_touch_the_provider_object_only() {
        let config = merged(
            GRAPH,
            &[
                ("NANOPY_API_KEY", "env-key"),
                ("NANOPY_BASE_URL", "http://env/v1"),
            ],
        );
        assert_eq!(config.provider.api_key, "env-key");
        assert_eq!(config.provider.base_url, "http://env/v1");
        let local = config.provider_named("local").unwrap();
        assert_eq!(
            (local.api_key.as_str(), local.base_url.as_str()),
            ("", "http://l/v1")
        );
    }

    #[test]
    fn defaults_apply_when_file_is_empty_object() {
        let config = merged("{}", &[]);
        assert_eq!(config.provider.base_url, DEFAULT_BASE_URL);
        assert_eq!(config.provider.model, DEFAULT_MODEL);
        assert_eq!(config.provider.timeout_secs, 120);
        assert_eq!(config.provider.max_retries, 2);
        assert_eq!(config.memory_path, PathBuf::from("/data/memory.json"));
        assert_eq!(config.scheduler_db_path, PathBuf::from("/data/jobs.sqlite"));
        assert!(config.shell_allow.is_empty());
    }

    #[test]
    fn nanopy_env_beats_openai_env_which_beats_the_file() {
        let file =
            r#"{"provider": {"api_key": "file", "base_url": "http://file", "model": "m-file"}}"#;
        let config = merged(file, &[]);
        assert_eq!(config.provider.api_key, "file");
        let config = merged(
            file,
            &[
                ("OPENAI_API_KEY", "openai"),
                ("OPENAI_BASE_URL", "http://o"),
            ],
        );
        assert_eq!(config.provider.api_key, "openai");
        assert_eq!(config.provider.base_url, "http://o");
        let config = merged(
            file,
            &[
                ("OPENAI_API_KEY", "openai"),
                ("NANOPY_API_KEY", "nanopy"),
                ("OPENAI_BASE_URL", "http://o"),
                ("NANOPY_BASE_URL", "http://n"),
                ("NANOPY_MODEL", "m-env"),
            ],
        );
        assert_eq!(config.provider.api_key, "nanopy");
        assert_eq!(config.provider.base_url, "http://n");
        assert_eq!(config.provider.model, "m-env");
    }

    #[test]
    fn null_values_mean_default() {
        let config = merged(r#"{"provider": {"model": null}, "memory_path": null}"#, &[]);
        assert_eq!(config.provider.model, DEFAULT_MODEL);
        assert_eq!(config.memory_path, PathBuf::from("/data/memory.json"));
    }

    #[test]
    fn paths_resolve_against_data_dir_and_expand_tilde() {
        let config = merged(
            r#"{"memory_path": "sub/m.json", "scheduler_db_path": "~/jobs.db"}"#,
            &[("HOME", "/home/pi")],
        );
        assert_eq!(config.memory_path, PathBuf::from("/data/sub/m.json"));
        assert_eq!(config.scheduler_db_path, PathBuf::from("/home/pi/jobs.db"));
    }

    #[test]
    fn wrong_type_names_line_and_column() {
        let error = parse(
            Path::new("c.json"),
            "{\n  \"provider\": {\n    \"timeout_secs\": \"soon\"\n  }\n}",
        )
        .err()
        .unwrap();
        match error {
            Error::ConfigSyntax { line, .. } => assert_eq!(line, 3),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_keys_are_listed_with_their_path() {
        let value: Value = serde_json::from_str(
            r#"{"providr": 1, "provider": {"modle": "x"}, "tools": {"shell": {"alow": []}}}"#,
        )
        .unwrap();
        assert_eq!(
            unknown_keys(&value),
            vec!["providr", "provider.modle", "tools.shell.alow"]
        );
    }

    #[test]
    fn fingerprints_change_with_any_value_but_not_key_order() {
        let a = fingerprint(&serde_json::json!({"command": "x", "args": ["1"]}));
        assert_eq!(
            a,
            fingerprint(&serde_json::json!({"args": ["1"], "command": "x"}))
        );
        assert_ne!(
            a,
            fingerprint(&serde_json::json!({"command": "x", "args": ["2"]}))
        );
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn mcp_entries_are_checked_with_line_and_column() {
        let check = |text: &str| {
            let entries = match serde_json::from_str::<Value>(text).unwrap()["mcp"].clone() {
                Value::Object(map) => map.into_iter().collect(),
                _ => Default::default(),
            };
            mcp_servers(Path::new("c.json"), text, entries)
        };
        let good = check(
            r#"{"mcp": {"t": {"command": "srv", "args": ["-v"], "env": {"K": "v"}, "tools": ["a"]},
                        "h": {"url": "http://127.0.0.1:1/mcp", "headers": {"Authorization": "x"},
                              "disabled": true, "tool_timeout_secs": 5}}}"#,
        )
        .unwrap();
        assert_eq!(good.len(), 2);
        assert!(good[0].disabled && good[0].tool_timeout_secs == 5);
        assert_eq!(good[1].tools, Some(vec!["a".to_string()]));
        assert_eq!(good[1].startup_timeout_secs, 30);
        for (text, says) in [
            (r#"{"mcp": {"x": {}}}"#, "exactly one of"),
            (
                r#"{"mcp": {"x": {"command": "a", "url": "http://h"}}}"#,
                "exactly one of",
            ),
            (r#"{"mcp": {"x": {"url": "ftp://h"}}}"#, "http://"),
            (
                r#"{"mcp": {"x": {"command": "a", "args": "b"}}}"#,
                "list of strings",
            ),
            (
                r#"{"mcp": {"x": {"command": "a", "tool_timeout_secs": 0}}}"#,
                "above 0",
            ),
            (r#"{"mcp": {"x": 3}}"#, "must be an object"),
        ] {
            let error = check(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
            assert!(error.contains("line 1"), "{error}");
        }
    }

    #[test]
    fn default_file_parses_without_warnings() {
        let value: Value = serde_json::from_str(DEFAULT_CONFIG_FILE).unwrap();
        assert!(unknown_keys(&value).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_config_text_loads_or_errors_without_panicking(text in "\\PC{0,80}") {
            let _ = parse(Path::new("config.json"), &text);
        }

        #[test]
        fn config_shaped_text_loads_or_errors_without_panicking(
            text in r#"\{("(provider|tools|shell|allow|model|timeout_secs|memory_path)": ?(\{|\[|"[a-z~/]*"|-?[0-9]{1,20}|null|true)[,}\]]? ?){0,6}"#,
        ) {
            let _ = parse(Path::new("config.json"), &text);
        }
    }
}
