//! Providers (SPEC §9): the `provider` object and `providers`, their keys and where each
//! comes from, aliases, and the chain of providers a turn tries.

use super::Config;
use super::file::{FileProvider, syntax_error_at};
use crate::error::{Error, Result};
use serde_json::Value;

pub(super) const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub(super) const DEFAULT_MODEL: &str = "gpt-4o-mini";
const DEFAULT_TIMEOUT_SECS: u64 = 120;
const DEFAULT_MAX_RETRIES: u32 = 2;

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

/// The name of the `provider` object.
pub const DEFAULT_PROVIDER: &str = "default";

/// A provider from its file entry; the key is read from the config or `api_key_env` now,
/// while `api_key_cmd` waits until the provider is called.
pub fn provider_config(
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

/// Whether the file gives `providers.<name>.base_url` (a named provider has no default).
fn has_base_url(text: &str, name: &str) -> bool {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|root| root.get("providers")?.get(name)?.get("base_url").cloned())
        .is_some_and(|url| url.is_string())
}

impl Config {
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
    pub(super) fn check_providers(&self, text: &str) -> Result<()> {
        let fail = |path: &[&str], message: String| {
            Err(syntax_error_at(&self.config_path, text, path, message))
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
}
