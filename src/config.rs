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
    pub provider: ProviderConfig,
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

/// How to reach the chat-completions endpoint.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub api_key: String,
    pub base_url: String,
    pub model: String,
    pub timeout_secs: u64,
    pub max_retries: u32,
}

/// The config file as written; every key optional, `null` meaning "use the default".
#[derive(Deserialize, Default)]
#[serde(default)]
struct FileConfig {
    provider: FileProvider,
    system_prompt: Option<String>,
    memory_path: Option<String>,
    scheduler_db_path: Option<String>,
    log_path: Option<String>,
    log: FileLog,
    tools: FileTools,
    limits: FileLimits,
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
    base_url: Option<String>,
    model: Option<String>,
    timeout_secs: Option<u64>,
    max_retries: Option<u32>,
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

/// Known keys per object, for the unknown-key warning; a nested object is listed by its path.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "provider",
            "system_prompt",
            "memory_path",
            "scheduler_db_path",
            "log_path",
            "log",
            "tools",
            "limits",
        ],
    ),
    (
        "provider",
        &[
            "api_key",
            "base_url",
            "model",
            "timeout_secs",
            "max_retries",
        ],
    ),
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
        let file = read_or_create(&config_path)?;
        let config = Config::merge(data_dir, config_path, file, env);
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
        let first = |names: &[&str]| names.iter().find_map(|name| env(name));
        let provider = ProviderConfig {
            api_key: first(&["NANOPY_API_KEY", "OPENAI_API_KEY"])
                .or(file.provider.api_key)
                .unwrap_or_default(),
            base_url: first(&["NANOPY_BASE_URL", "OPENAI_BASE_URL"])
                .or(file.provider.base_url)
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
            model: first(&["NANOPY_MODEL"])
                .or(file.provider.model)
                .unwrap_or_else(|| DEFAULT_MODEL.to_string()),
            timeout_secs: file.provider.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS),
            max_retries: file.provider.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
        };
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
            log: LogConfig {
                path: resolve(file.log_path, "log.sqlite"),
                enabled: file.log.enabled.unwrap_or(true),
                keep_days: file.log.keep_days.unwrap_or(DEFAULT_LOG_KEEP_DAYS),
                context_chars: file.log.context_chars.unwrap_or(DEFAULT_CONTEXT_CHARS),
            },
            daily_tokens: file.limits.daily_tokens,
            provider,
            data_dir,
            config_path,
        }
    }

    /// The effective configuration as JSON, with the API key redacted, for `nanopy config`.
    pub fn to_redacted_json(&self) -> Value {
        let key = if self.provider.api_key.is_empty() {
            "(none)"
        } else {
            "(set, redacted)"
        };
        serde_json::json!({
            "data_dir": self.data_dir,
            "config_path": self.config_path,
            "provider": {
                "api_key": key,
                "base_url": self.provider.base_url,
                "model": self.provider.model,
                "timeout_secs": self.provider.timeout_secs,
                "max_retries": self.provider.max_retries,
            },
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
        })
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
fn read_or_create(path: &Path) -> Result<FileConfig> {
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
    parse(path, &text)
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
        eprintln!(
            "warning: unknown key{} in `{}`: {} (ignored)",
            if unknown.len() == 1 { "" } else { "s" },
            path.display(),
            unknown.join(", ")
        );
    }
    Ok(file)
}

fn unknown_keys(root: &Value) -> Vec<String> {
    let mut unknown = Vec::new();
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
