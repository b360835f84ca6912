//! Where each effective setting comes from, for `nanopy config`: an environment variable, the
//! config file, or the built-in default (SPEC §1's precedence; `config` takes no flags).

use serde_json::Value;

/// The settings `config` shows, as paths into the file.
const SETTINGS: &[&str] = &[
    "provider.api_key",
    "provider.base_url",
    "provider.model",
    "provider.timeout_secs",
    "provider.max_retries",
    "providers",
    "default_provider",
    "fallback",
    "aliases",
    "system_prompt",
    "memory_path",
    "scheduler_db_path",
    "log_path",
    "log.enabled",
    "log.keep_days",
    "log.context_chars",
    "limits.input_bytes",
    "limits.daily_tokens",
    "limits.image_bytes",
    "tools.shell.allow",
    "tools.shell.timeout_secs",
    "mcp",
];

/// The environment variables that may set a setting, highest first.
fn variables(setting: &str) -> &'static [&'static str] {
    match setting {
        "data_dir" => &["NANOPYBOT_HOME"],
        "provider.api_key" => &["NANOPY_API_KEY", "OPENAI_API_KEY"],
        "provider.base_url" => &["NANOPY_BASE_URL", "OPENAI_BASE_URL"],
        "provider.model" => &["NANOPY_MODEL"],
        _ => &[],
    }
}

/// `(setting, source)` for the data directory and every setting: `environment variable X`,
/// `config file`, or `default`. `file` is the parsed config file.
pub fn sources(file: &Value, env: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    let home = match variables("data_dir")
        .iter()
        .find(|name| env(name).is_some())
    {
        Some(name) => format!("environment variable {name}"),
        None => "default (~/.nanopybot)".to_string(),
    };
    let mut found = vec![("data_dir".to_string(), home)];
    for setting in SETTINGS {
        let from_env = variables(setting).iter().find(|name| env(name).is_some());
        let in_file = setting
            .split('.')
            .try_fold(file, |value, key| value.get(key))
            // An empty `api_key` (the default file's) sends no key: it is not a source.
            .is_some_and(|value| !value.is_null() && value.as_str() != Some(""));
        let source = match (from_env, in_file) {
            (Some(name), _) => format!("environment variable {name}"),
            // A key may also come from a variable the file names (`api_key_env`).
            (None, true) => "config file".to_string(),
            (None, false) if *setting == "provider.api_key" => key_source(file),
            (None, false) => "default".to_string(),
        };
        found.push((setting.to_string(), source));
    }
    found
}

/// The `provider` object's key when the file gives no `api_key`: `api_key_env`,
/// `api_key_cmd`, or none.
fn key_source(file: &Value) -> String {
    let provider = file.get("provider");
    let named = |key: &str| provider.and_then(|p| p.get(key)).and_then(Value::as_str);
    match (named("api_key_env"), named("api_key_cmd")) {
        (Some(variable), _) => format!("config file (environment variable {variable})"),
        (None, Some(_)) => "config file (api_key_cmd)".to_string(),
        (None, None) => "default (none)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_setting_names_the_variable_the_file_or_the_default() {
        let file =
            json!({"provider": {"model": "m", "timeout_secs": null}, "log": {"keep_days": 7}});
        let env = |name: &str| (name == "OPENAI_BASE_URL").then(|| "http://x".to_string());
        let found: std::collections::HashMap<String, String> =
            sources(&file, &env).into_iter().collect();
        assert_eq!(
            found["provider.base_url"],
            "environment variable OPENAI_BASE_URL"
        );
        assert_eq!(found["provider.model"], "config file");
        assert_eq!(found["provider.timeout_secs"], "default");
        assert_eq!(found["log.keep_days"], "config file");
        assert_eq!(found["log.enabled"], "default");
        assert_eq!(found["provider.api_key"], "default (none)");
        assert_eq!(found["data_dir"], "default (~/.nanopybot)");
    }
}
