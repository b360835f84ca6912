//! `doctor`: checks config, file permissions, the stores, the time zone and every provider,
//! one `ok` or `problem:` line each.

use crate::clock;
use crate::config::{Config, TargetKind};
use crate::cron::Store;
use crate::error::{Error, Result};
use crate::log::Log;
use crate::memory::Memory;
use crate::output;
use crate::provider::Provider;
use crate::zone::{load_zone, system_zone_name};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Runs every check, printing `ok …` or `problem: …` for each; exit 1 if any failed.
pub fn run(config: &Config) -> Result<()> {
    let mut report = Report { problems: 0 };
    report.line(
        true,
        format!("config `{}` parses", config.config_path.display()),
    )?;
    files(config, &mut report)?;
    stores(config, &mut report)?;
    let zone = system_zone_name();
    match load_zone(&zone) {
        Ok(_) => report.line(true, format!("system time zone `{zone}`"))?,
        Err(error) => report.line(false, error.to_string())?,
    }
    log(config, &mut report)?;
    providers(config, &mut report)?;
    mcp_servers(config, &mut report)?;
    targets(config, &mut report)?;
    scheduler_runs(config, &mut report)?;
    match report.problems {
        0 => Ok(()),
        problems => Err(Error::Failed(format!("{problems} problem(s) found"))),
    }
}

/// The lines printed so far, and how many were problems.
struct Report {
    problems: usize,
}

impl Report {
    /// Prints `ok TEXT` or `problem: TEXT`.
    fn line(&mut self, ok: bool, text: String) -> Result<()> {
        if !ok {
            self.problems += 1;
        }
        output::line(&if ok {
            format!("ok {text}")
        } else {
            format!("problem: {text}")
        })
    }
}

/// Our files and directory are private to their owner.
fn files(config: &Config, report: &mut Report) -> Result<()> {
    for (path, want, what) in [
        (config.data_dir.as_path(), 0o700, "data directory"),
        (config.config_path.as_path(), 0o600, "config file"),
        (config.memory_path.as_path(), 0o600, "memory file"),
        (config.scheduler_db_path.as_path(), 0o600, "job store"),
        (config.log.path.as_path(), 0o600, "log"),
    ] {
        if let Some(mode) = mode_of(path) {
            let ok = mode & 0o077 == 0;
            let text = if ok {
                format!("{what} `{}` is private ({mode:o})", path.display())
            } else {
                format!(
                    "{what} `{}` has mode {mode:o}; others can read it: run `chmod {want:o} {}`",
                    path.display(),
                    path.display()
                )
            };
            report.line(ok, text)?;
        }
    }
    Ok(())
}

/// The memory and the job store (and jobs stuck without a next fire) can be read.
fn stores(config: &Config, report: &mut Report) -> Result<()> {
    match Memory::open(&config.memory_path).keys(clock::now()) {
        Ok(keys) => report.line(
            true,
            format!("memory readable ({})", count(keys.len(), "key")),
        )?,
        Err(error) => report.line(false, error.to_string())?,
    }
    match Store::open(&config.scheduler_db_path).and_then(|store| store.jobs()) {
        Ok(jobs) => {
            report.line(
                true,
                format!("job store readable ({})", count(jobs.len(), "job")),
            )?;
            for job in jobs
                .iter()
                .filter(|job| job.enabled && job.next_fire.is_none())
            {
                report.line(
                    false,
                    format!(
                        "job `{}` is enabled but has no next fire (see `nanopy cron-history {}`)",
                        job.def.name, job.def.name
                    ),
                )?;
            }
        }
        Err(error) => report.line(false, error.to_string())?,
    }
    Ok(())
}

/// The log, when it is on, can be read.
fn log(config: &Config, report: &mut Report) -> Result<()> {
    if config.log.enabled {
        match Log::open(&config.log.path).and_then(|log| log.sessions()) {
            Ok(sessions) => report.line(
                true,
                format!("log readable ({})", count(sessions.len(), "session")),
            )?,
            Err(error) => report.line(false, error.to_string())?,
        }
    }
    Ok(())
}

/// Every provider, whether it is the default or only a fallback: a dead fallback is found
/// now, not at 03:00 when the primary is down too.
fn providers(config: &Config, report: &mut Report) -> Result<()> {
    for provider in config.all_providers() {
        let name = &provider.name;
        match Provider::new(provider).and_then(|client| client.probe()) {
            Ok(text) => report.line(
                true,
                format!("provider `{name}`: {text}; key {}", provider.key_source),
            )?,
            Err(error) => report.line(false, format!("provider `{name}`: {error}"))?,
        }
    }
    Ok(())
}

/// Each enabled MCP server starts and lists its tools.
fn mcp_servers(config: &Config, report: &mut Report) -> Result<()> {
    for server in config.mcp.iter().filter(|server| server.disabled) {
        report.line(true, format!("MCP server `{}` is disabled", server.name))?;
    }
    let Some(servers) = crate::mcp::Servers::new(config) else {
        return Ok(());
    };
    crate::process_group::kill_groups_on_signals();
    for (name, listed) in servers.check_each() {
        match listed {
            Ok((era, tools)) if tools.is_empty() => report.line(
                true,
                format!("MCP server `{name}` started ({era}); it offers no tools"),
            )?,
            Ok((era, tools)) => report.line(
                true,
                format!(
                    "MCP server `{name}` started ({era}); tools: {}",
                    tools.join(", ")
                ),
            )?,
            Err(why) => report.line(false, format!("MCP server `{name}`: {why}"))?,
        }
    }
    Ok(())
}

/// Each delivery target that can be checked without sending: its command exists, and the
/// Telegram bot's token answers `getMe` (which names the bot).
fn targets(config: &Config, report: &mut Report) -> Result<()> {
    if config.telegram.is_some() {
        match crate::deliver::telegram::bot_name(config) {
            Ok(name) => report.line(true, format!("Telegram bot {name} answers getMe"))?,
            Err(failure) => report.line(false, format!("Telegram bot: {}", failure.text()))?,
        }
    }
    for target in &config.targets {
        let kind = target.kind.name();
        let (ok, what) = match &target.kind {
            TargetKind::Email { sendmail, .. } => {
                let program = sendmail
                    .as_deref()
                    .unwrap_or("/usr/sbin/sendmail")
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                if executable(program) {
                    (true, format!("mails through `{program}`"))
                } else {
                    (
                        false,
                        format!(
                            "`{program}` is not an executable (install msmtp-mta, or set `sendmail`)"
                        ),
                    )
                }
            }
            TargetKind::Telegram { chat } if config.telegram.is_none() => (
                false,
                format!("chat {chat} needs a `telegram` bot in the config"),
            ),
            TargetKind::Telegram { chat } => (true, format!("chat {chat}")),
            TargetKind::Ntfy { url, .. }
            | TargetKind::Webhook { url, .. }
            | TargetKind::Ping { url } => (true, crate::http::redact_userinfo(url)),
            TargetKind::Command { .. } => (true, "runs with `sh -c`".to_string()),
        };
        report.line(ok, format!("target `{}` ({kind}): {what}", target.name))?;
    }
    Ok(())
}

/// Whether `program` names an executable file (found on PATH when it has no slash).
fn executable(program: &str) -> bool {
    let runnable = |path: &Path| {
        std::fs::metadata(path)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return runnable(Path::new(program));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| runnable(&dir.join(program))))
}

/// SPEC §12: enabled jobs but no scheduler seen in the last 10 minutes.
fn scheduler_runs(config: &Config, report: &mut Report) -> Result<()> {
    let Ok(store) = Store::open(&config.scheduler_db_path) else {
        return Ok(()); // said above
    };
    if let Some(warning) = crate::cron::unattended(&store, clock::now())? {
        report.line(false, warning)?;
    }
    Ok(())
}

/// `1 key`, `2 keys`.
fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

fn mode_of(path: &Path) -> Option<u32> {
    std::fs::metadata(path)
        .ok()
        .map(|meta| meta.permissions().mode() & 0o777)
}
