//! `doctor`: checks config, file permissions, the stores, the time zone and the provider,
//! one `ok` or `problem:` line each.

use crate::clock;
use crate::config::Config;
use crate::cron::schedule::{load_zone, system_zone_name};
use crate::cron::store::Store;
use crate::error::{Error, Result};
use crate::memory::Memory;
use crate::output;
use crate::provider::Provider;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Runs every check, printing `ok …` or `problem: …` for each; exit 1 if any failed.
pub fn run(config: &Config) -> Result<()> {
    let mut problems = 0;
    let mut report = |ok: bool, text: String| {
        if !ok {
            problems += 1;
        }
        output::line(&if ok {
            format!("ok {text}")
        } else {
            format!("problem: {text}")
        })
    };
    report(
        true,
        format!("config `{}` parses", config.config_path.display()),
    )?;
    for (path, want, what) in [
        (config.data_dir.as_path(), 0o700, "data directory"),
        (config.config_path.as_path(), 0o600, "config file"),
        (config.memory_path.as_path(), 0o600, "memory file"),
        (config.scheduler_db_path.as_path(), 0o600, "job store"),
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
            report(ok, text)?;
        }
    }
    match Memory::open(&config.memory_path).keys(clock::now()) {
        Ok(keys) => report(true, format!("memory readable ({} keys)", keys.len()))?,
        Err(error) => report(false, error.to_string())?,
    }
    match Store::open(&config.scheduler_db_path).and_then(|store| store.jobs()) {
        Ok(jobs) => {
            report(true, format!("job store readable ({} jobs)", jobs.len()))?;
            for job in jobs
                .iter()
                .filter(|job| job.enabled && job.next_fire.is_none())
            {
                report(
                    false,
                    format!(
                        "job `{}` is enabled but has no next fire (see `nanopy cron-history {}`)",
                        job.def.name, job.def.name
                    ),
                )?;
            }
        }
        Err(error) => report(false, error.to_string())?,
    }
    let zone = system_zone_name();
    match load_zone(&zone) {
        Ok(_) => report(true, format!("system time zone `{zone}`"))?,
        Err(error) => report(false, error.to_string())?,
    }
    match Provider::new(&config.provider).and_then(|provider| provider.probe()) {
        Ok(text) => report(true, text)?,
        Err(error) => report(false, error.to_string())?,
    }
    if problems > 0 {
        Err(Error::Failed(format!("{problems} problem(s) found")))
    } else {
        Ok(())
    }
}

fn mode_of(path: &Path) -> Option<u32> {
    std::fs::metadata(path)
        .ok()
        .map(|meta| meta.permissions().mode() & 0o777)
}
