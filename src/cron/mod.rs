//! The scheduler: pure schedules, the SQLite job store, and the runner that fires jobs; and
//! the operations that commands and tools share: turning what was typed into a schedule,
//! checking a job, adding and editing one.

mod outbox;
mod owner;
mod runner;
mod schedule;
mod store;

pub use outbox::Attempt;
pub use runner::{Output, Work, fire_now, run_daemon, run_once};
pub use schedule::Spec;
pub use store::{Delivery, Job, JobDef, NewDelivery, Reporting, Run, RunStatus, Store};

use crate::error::{Error, Result};
use crate::names::check_name;
use crate::zone::{format_in, load_zone, time_in_zone};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use schedule::{MIN_EVERY_SECS, Schedule};

/// How long jobs may wait with no scheduler running before that is worth a word (SPEC §12).
const UNATTENDED_SECS: i64 = 600;

/// SPEC §12, a scheduler nobody runs: when an enabled job was added more than 10 minutes ago
/// and no scheduler has noted the time in the last 10 minutes (or ever), what to say.
pub fn unattended(store: &Store, now: i64) -> Result<Option<String>> {
    let Some(added) = store.oldest_waiting_job()? else {
        return Ok(None);
    };
    let seen = store.last_seen()?;
    if now - added <= UNATTENDED_SECS || seen.is_some_and(|seen| now - seen <= UNATTENDED_SECS) {
        return Ok(None);
    }
    let last = match seen {
        Some(seen) => format!(
            "last seen {}",
            time_in_zone(Some(seen), &crate::zone::system_zone_name()).unwrap_or_default()
        ),
        None => "never seen".to_string(),
    };
    Ok(Some(format!(
        "no scheduler has run in the last 10 minutes ({last}), so jobs do not fire: start one \
         with `sudo systemctl enable --now nanopy-cron@$USER`, or add the crontab line \
         `* * * * * nanopy cron-run --once`"
    )))
}

/// The grace period of a job when none is given.
pub const DEFAULT_GRACE_SECS: i64 = 600;

/// A schedule as it was asked for (`--cron`, `--at`, `--in`, `--every`), before it is
/// resolved against the clock and a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Cron(String),
    At(String),
    In(String),
    Every(String),
}

impl When {
    /// The flag it came from, for error messages.
    pub fn flag(&self) -> &'static str {
        match self {
            When::Cron(_) => "--cron",
            When::At(_) => "--at",
            When::In(_) => "--in",
            When::Every(_) => "--every",
        }
    }

    /// Resolves it at `now` in the zone `tz`: a cron expression is checked, `--at` and `--in`
    /// become an instant (which must be in the future), `--every` a phase starting now.
    /// Errors are exit 2 and name the flag.
    pub fn resolve(&self, tz: &str, now: Timestamp) -> Result<Spec> {
        let invalid = |text: &str, why: String| {
            Error::Usage(format!("invalid `{} {text}`: {why}", self.flag()))
        };
        match self {
            When::Cron(expression) => {
                Schedule::parse(expression, tz, now)?;
                Ok(Spec::Cron(expression.clone()))
            }
            When::At(text) => {
                let at = parse_at(text, tz, now).map_err(|why| invalid(text, why))?;
                if at <= now {
                    let shown = format_in(at, &load_zone(tz)?);
                    return Err(invalid(text, format!("{shown} is in the past")));
                }
                Ok(Spec::At(at.as_second()))
            }
            When::In(text) => {
                let wait = crate::duration::parse(text).map_err(|why| invalid(text, why))?;
                Ok(Spec::At(
                    now.as_second().saturating_add(wait.as_secs() as i64),
                ))
            }
            When::Every(text) => {
                let every =
                    crate::duration::parse_allowing_zero(text).map_err(|why| invalid(text, why))?;
                let secs = every.as_secs() as i64;
                if secs < MIN_EVERY_SECS {
                    return Err(invalid(text, "the shortest interval is 1m".into()));
                }
                Ok(Spec::Every {
                    text: text.clone(),
                    secs,
                    anchor: now.as_second(),
                })
            }
        }
    }
}

/// `--at`: RFC 3339 with an offset, or `YYYY-MM-DD HH:MM` or `HH:MM` in the zone `tz`;
/// `HH:MM` already past today means tomorrow.
fn parse_at(text: &str, tz: &str, now: Timestamp) -> std::result::Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok(instant);
    }
    let zone = load_zone(tz).map_err(|error| error.to_string())?;
    let in_zone = |civil: DateTime| {
        civil
            .to_zoned(zone.clone())
            .map_err(|error| error.to_string())
    };
    let chosen = if let Some((date, time)) = text.split_once(' ')
        && let (Some(date), Some(time)) = (parse_date(date), parse_time(time.trim()))
    {
        Some((date.to_datetime(time), in_zone(date.to_datetime(time))?))
    } else if let Some(time) = parse_time(text) {
        let today = now.to_zoned(zone.clone()).date();
        let at = in_zone(today.to_datetime(time))?;
        if at.timestamp() > now {
            Some((today.to_datetime(time), at))
        } else {
            let tomorrow = today.tomorrow().map_err(|error| error.to_string())?;
            Some((
                tomorrow.to_datetime(time),
                in_zone(tomorrow.to_datetime(time))?,
            ))
        }
    } else {
        None
    };
    if let Some((asked, zoned)) = chosen {
        // A time in a spring-forward gap moves on by the gap's length (SPEC §5): say so.
        if zoned.datetime() != asked {
            crate::notice::note(&format!(
                "{} does not exist in {tz} (the clocks skip it); the job fires at {} instead",
                asked.strftime("%Y-%m-%d %H:%M"),
                format_in(zoned.timestamp(), &zone)
            ));
        }
        return Ok(zoned.timestamp());
    }
    Err(
        "use RFC 3339 (2026-12-24T18:00:00+01:00), `YYYY-MM-DD HH:MM` or `HH:MM` in the \
         job's zone"
            .into(),
    )
}

/// A job just added or edited, with its next fire as text.
pub struct Saved {
    pub job: Job,
    pub next_fire: Option<String>,
}

impl Saved {
    fn new(job: Job) -> Saved {
        let next_fire = time_in_zone(job.next_fire, &job.def.tz);
        Saved { job, next_fire }
    }

    /// One line for people and models: what was done, the schedule, zone and next fire.
    pub fn summary(&self, done: &str) -> String {
        let def = &self.job.def;
        let next = match (&self.next_fire, self.job.enabled) {
            (Some(next), _) => format!("next fire {next}"),
            (None, false) => format!(
                "disabled (enable it with `nanopy cron-enable {}`)",
                def.name
            ),
            (None, true) => "no next fire".to_string(),
        };
        format!(
            "{done} job `{}`: {} in {}, {next}",
            def.name,
            describe(&def.spec, &def.tz),
            def.tz
        )
    }
}

/// The schedule in words: `` `0 7 * * *` ``, `once at 2026-…`, `every 90m`.
pub fn describe(spec: &Spec, tz: &str) -> String {
    match spec {
        Spec::Cron(expression) => format!("`{expression}`"),
        Spec::At(at) => format!(
            "once at {}",
            time_in_zone(Some(*at), tz).unwrap_or_default()
        ),
        Spec::Every { text, .. } => format!("every {text}"),
    }
}

fn check_def(job: &JobDef) -> Result<()> {
    check_name("job", &job.name)?;
    if let Some(session) = &job.session {
        check_name("session", session)?;
    }
    if job.message.trim().is_empty() {
        return Err(Error::Usage("a job message cannot be empty".into()));
    }
    if job.grace_secs < 0 {
        return Err(Error::Usage("the grace period cannot be negative".into()));
    }
    Ok(())
}

/// The first fire of a job, which must exist.
fn first_fire(job: &JobDef, now: Timestamp) -> Result<i64> {
    job.spec
        .next_after(&job.tz, now.as_second())?
        .ok_or_else(|| Error::Input(format!("job `{}` would never fire", job.name)))
}

/// Checks and stores a job (shared by `cron-add` and the `cron_add` tool).
pub fn add(store: &mut Store, job: JobDef, replace: bool, now: Timestamp) -> Result<Saved> {
    check_def(&job)?;
    let next = first_fire(&job, now)?;
    let job = store.add(&job, next, replace, now.as_second())?;
    Ok(Saved::new(job))
}

/// Changes a job in one transaction (`cron-edit`): `change` rewrites its definition, then
/// the next fire is recomputed from now. A disabled job stays disabled.
pub fn edit(
    store: &mut Store,
    name: &str,
    now: Timestamp,
    change: impl FnOnce(&mut JobDef) -> Result<()>,
) -> Result<Saved> {
    let job = store.edit(name, now.as_second(), |job| {
        change(&mut job.def)?;
        check_def(&job.def)?;
        job.next_fire = if job.enabled {
            Some(first_fire(&job.def, now)?)
        } else {
            None
        };
        Ok(())
    })?;
    Ok(Saved::new(job))
}

/// `YYYY-MM-DD`. Parsed by hand: jiff's strptime would add its whole format parser to the
/// binary for two fixed forms.
fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?).ok()
}

/// `HH:MM`, 24-hour.
fn parse_time(text: &str) -> Option<Time> {
    let (hour, minute) = text.split_once(':')?;
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if hour.len() > 2 || minute.len() != 2 || !digits(hour) || !digits(minute) {
        return None;
    }
    Time::new(hour.parse().ok()?, minute.parse().ok()?, 0, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn at_takes_rfc3339_a_local_date_and_time_or_a_time_of_day() {
        let now = at("2026-12-01T10:00:00Z");
        let resolve = |text: &str| When::At(text.into()).resolve("Asia/Jakarta", now);
        assert_eq!(
            resolve("2026-12-24T18:00:00+01:00").unwrap(),
            Spec::At(at("2026-12-24T17:00:00Z").as_second())
        );
        assert_eq!(
            resolve("2026-12-02 07:30").unwrap(),
            Spec::At(at("2026-12-02T00:30:00Z").as_second())
        );
        // 17:30 in Jakarta (UTC+7) is still ahead today; 16:59 has passed, so it is tomorrow.
        assert_eq!(
            resolve("17:30").unwrap(),
            Spec::At(at("2026-12-01T10:30:00Z").as_second())
        );
        assert_eq!(
            resolve("16:59").unwrap(),
            Spec::At(at("2026-12-02T09:59:00Z").as_second())
        );
    }

    #[test]
    fn at_in_the_past_or_malformed_is_a_usage_error_naming_the_flag() {
        let now = at("2026-12-01T10:00:00Z");
        for text in [
            "2026-11-30 10:00",
            "2020-01-01T00:00:00Z",
            "tomorrow",
            "25:00",
        ] {
            let error = When::At(text.into()).resolve("UTC", now).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{text}");
            assert!(error.to_string().contains("`--at "), "{error}");
        }
    }

    #[test]
    fn in_is_an_instant_and_every_starts_its_phase_now() {
        let now = at("2026-12-01T10:00:00Z");
        assert_eq!(
            When::In("2h".into()).resolve("UTC", now).unwrap(),
            Spec::At(now.as_second() + 7200)
        );
        assert_eq!(
            When::Every("90m".into()).resolve("UTC", now).unwrap(),
            Spec::Every {
                text: "90m".into(),
                secs: 5400,
                anchor: now.as_second()
            }
        );
        for (when, flag) in [
            (When::Every("30s".into()), "--every"),
            (When::Every("soon".into()), "--every"),
            (When::In("2x".into()), "--in"),
        ] {
            let error = when.resolve("UTC", now).unwrap_err().to_string();
            assert!(error.contains(flag), "{error}");
        }
    }
}
