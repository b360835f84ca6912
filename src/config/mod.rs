//! The effective configuration: the config file, the environment overrides and the built-in
//! defaults merged (SPEC §1). Each part of the file has its own module: reading and parsing
//! it (`file`), where files live (`paths`), providers and routes (`providers`), MCP servers
//! (`mcp`).

mod file;
mod mcp;
mod paths;
mod providers;
mod sources;
mod targets;

pub use mcp::{McpLaunch, McpServer};
pub use providers::{Alias, DEFAULT_PROVIDER, ProviderConfig, Route};
pub use targets::{Kind as TargetKind, QuietHours, Secret, Target, Telegram};

use crate::error::{Error, Result};
use file::{FileConfig, read_or_create};
use paths::{data_dir, resolve_path};
use providers::provider_config;
use serde_json::Value;
use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

/// The data directory holds keys and memory, so only the owner may enter it.
const DATA_DIR_MODE: u32 = 0o700;

const DEFAULT_SYSTEM_PROMPT: &str = "You are nanopybot, a concise and helpful assistant.";
const DEFAULT_SHELL_TIMEOUT_SECS: u64 = 30;
/// The most input (piped stdin, files, pages) one turn takes: 1 MiB (SPEC §3.0).
const DEFAULT_INPUT_BYTES: u64 = 1024 * 1024;
/// How long the log keeps a turn (SPEC §8).
const DEFAULT_LOG_KEEP_DAYS: u64 = 90;
/// How much of a conversation goes with a continued turn, in characters (SPEC §8).
const DEFAULT_CONTEXT_CHARS: usize = 24_000;
/// The largest image a turn sends: 10 MiB (SPEC §15).
const DEFAULT_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// How long a job's `--check` may run (SPEC §12).
const DEFAULT_CHECK_TIMEOUT_SECS: u64 = 60;

/// The delivery sections of the file, read by hand for errors with line and column.
struct Delivery {
    targets: serde_json::Map<String, Value>,
    telegram: Option<Value>,
    quiet_hours: Option<String>,
}

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
    /// The largest image a turn sends (`limits.image_bytes`, SPEC §15).
    pub image_bytes: u64,
    /// The conversation log (`log_path`, `log.*`).
    pub log: LogConfig,
    /// The most prompt plus completion tokens of one local day (`limits.daily_tokens`).
    pub daily_tokens: Option<u64>,
    /// MCP servers (`mcp`), by name (sorted), disabled ones included.
    pub mcp: Vec<McpServer>,
    /// Where each setting comes from (`config`): `(setting, source)`.
    pub sources: Vec<(String, String)>,
    /// Delivery targets (`targets`), by name (sorted).
    pub targets: Vec<Target>,
    /// The Telegram bot (`telegram`), if configured.
    pub telegram: Option<Telegram>,
    /// When job deliveries wait (`quiet_hours`), in `quiet_hours_tz` or the system zone.
    pub quiet_hours: Option<QuietHours>,
    pub quiet_hours_tz: Option<String>,
    /// How long a job's `--check` command may run (`check_timeout_secs`).
    pub check_timeout_secs: u64,
}

/// Where turns are recorded, for how long, and how much history a continued turn sends.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub path: PathBuf,
    /// `false` records nothing; then sessions and the token budget cannot work.
    pub enabled: bool,
    pub keep_days: u64,
    pub context_chars: usize,
}

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
        let delivery = Delivery {
            targets: std::mem::take(&mut file.targets),
            telegram: file.telegram.take(),
            quiet_hours: file.quiet_hours.take(),
        };
        let mut config = Config::merge(data_dir, config_path, file, env);
        config.check_providers(&text)?;
        config.mcp = mcp::servers(&config.config_path, &text, mcp)?;
        config.read_delivery(&text, delivery, env)?;
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        config.sources = sources::sources(&value, env);
        if config.daily_tokens.is_some() && !config.log.enabled {
            return Err(Error::Config(format!(
                "`{}`: `limits.daily_tokens` counts the tokens recorded in the log, which \
                 `\"log\": {{\"enabled\": false}}` turns off; remove one of the two",
                config.config_path.display()
            )));
        }
        Ok(config)
    }

    /// Reads the delivery settings (targets, the bot, quiet hours), with line and column.
    fn read_delivery(
        &mut self,
        text: &str,
        delivery: Delivery,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<()> {
        let path = self.config_path.clone();
        self.targets = targets::targets(&path, text, &delivery.targets, env)?;
        self.telegram = delivery
            .telegram
            .filter(|value| !value.is_null())
            .map(|value| targets::telegram(&path, text, &value, env))
            .transpose()?;
        self.quiet_hours = delivery
            .quiet_hours
            .map(|value| targets::quiet_hours(&path, text, &value))
            .transpose()?;
        if let Some(zone) = &self.quiet_hours_tz
            && crate::zone::by_name(zone).is_none()
        {
            return Err(file::syntax_error_at(
                &path,
                text,
                &["quiet_hours_tz"],
                format!("`quiet_hours_tz` names `{zone}`, which is not a time zone"),
            ));
        }
        Ok(())
    }

    /// The target called `name`.
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|target| target.name == name)
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
            image_bytes: file.limits.image_bytes.unwrap_or(DEFAULT_IMAGE_BYTES),
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
            sources: Vec::new(),
            targets: Vec::new(),
            telegram: None,
            quiet_hours: None,
            quiet_hours_tz: file.quiet_hours_tz,
            check_timeout_secs: file
                .check_timeout_secs
                .unwrap_or(DEFAULT_CHECK_TIMEOUT_SECS),
            provider,
            data_dir,
            config_path,
        }
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
            "limits": { "input_bytes": self.input_bytes, "daily_tokens": self.daily_tokens,
                        "image_bytes": self.image_bytes },
            "mcp": self.mcp.iter().map(|server| (server.name.clone(), mcp::redacted(server)))
                .collect::<serde_json::Map<String, Value>>(),
            "targets": self.targets.iter()
                .map(|target| (target.name.clone(), targets::redacted(target)))
                .collect::<serde_json::Map<String, Value>>(),
            "telegram": self.telegram.as_ref().map(|bot| serde_json::json!({
                "token": bot.token.as_ref().map(|token| token.source.clone()),
                "allow": bot.allow,
                "api_url": bot.api_url,
            })),
            "quiet_hours": self.quiet_hours.map(|q| format!(
                "{:02}:{:02}-{:02}:{:02}", q.start / 60, q.start % 60, q.end / 60, q.end % 60)),
            "quiet_hours_tz": self.quiet_hours_tz,
            "check_timeout_secs": self.check_timeout_secs,
            "sources": self.sources.iter()
                .map(|(setting, source)| (setting.clone(), Value::String(source.clone())))
                .collect::<serde_json::Map<String, Value>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use file::{DEFAULT_CONFIG_FILE, parse, unknown_keys};
    use providers::{DEFAULT_BASE_URL, DEFAULT_MODEL};
    use std::path::Path;

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
        let a = mcp::fingerprint(&serde_json::json!({"command": "x", "args": ["1"]}));
        assert_eq!(
            a,
            mcp::fingerprint(&serde_json::json!({"args": ["1"], "command": "x"}))
        );
        assert_ne!(
            a,
            mcp::fingerprint(&serde_json::json!({"command": "x", "args": ["2"]}))
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
            mcp::servers(Path::new("c.json"), text, entries)
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
