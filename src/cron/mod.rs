//! The scheduler: pure schedules, the SQLite job store, and the runner that fires jobs.

pub mod owner;
pub mod runner;
pub mod schedule;
pub mod store;

use crate::error::Result;
use jiff::Timestamp;
use schedule::{Schedule, format_in, load_zone};
use store::{Job, NewJob, Store};

/// The grace period of a job when none is given.
pub const DEFAULT_GRACE_SECS: i64 = 600;

/// A job just added, with its first fire.
pub struct Added {
    pub job: Job,
    pub next_fire: String,
}

impl Added {
    /// One line for people and models: name, expression, zone, first fire.
    pub fn summary(&self) -> String {
        format!(
            "added job `{}`: `{}` in {}, next fire {}",
            self.job.name, self.job.cron, self.job.tz, self.next_fire
        )
    }
}

/// Validates and stores a job (shared by `cron-add` and the `cron_add` tool): the name and
/// message must not be empty, the expression and zone must parse, and it must fire.
pub fn add(store: &mut Store, job: NewJob, replace: bool, now: Timestamp) -> Result<Added> {
    use crate::error::Error;
    if job.name.trim().is_empty() {
        return Err(Error::Usage("a job name cannot be empty".into()));
    }
    if job.message.trim().is_empty() {
        return Err(Error::Usage("a job message cannot be empty".into()));
    }
    if job.grace_secs < 0 {
        return Err(Error::Usage("the grace period cannot be negative".into()));
    }
    let schedule = Schedule::parse(&job.cron, &job.tz, now)?;
    let next = schedule
        .next_after(now)
        .expect("Schedule::parse checked that it fires");
    let job = store.add(&job, next.as_second(), replace, now.as_second())?;
    Ok(Added {
        job,
        next_fire: format_in(next, schedule.zone()),
    })
}

/// A stored Unix time as RFC 3339 in the zone `tz` (UTC if the zone cannot be loaded).
pub fn time_in_zone(seconds: Option<i64>, tz: &str) -> Option<String> {
    let instant = Timestamp::from_second(seconds?).ok()?;
    let zone = load_zone(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    Some(format_in(instant, &zone))
}
