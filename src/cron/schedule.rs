//! Pure scheduling: when a job fires (a cron expression in a time zone, once at an instant,
//! or at a fixed interval), the next fire after an instant, and the latest fire at or before
//! one.
//!
//! Nothing here reads the clock; callers pass "now" in, so every rule can be tested with
//! plain values.

use crate::error::{Error, Result};
use crate::zone::load_zone;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use jiff::Timestamp;
use jiff::tz::TimeZone;

const FIELDS_5: [&str; 5] = ["minute", "hour", "day-of-month", "month", "day-of-week"];
const FIELDS_6: [&str; 6] = [
    "second",
    "minute",
    "hour",
    "day-of-month",
    "month",
    "day-of-week",
];

/// A parsed expression bound to its zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    zone: TimeZone,
}

impl Schedule {
    /// Parses `expression` for the zone named `zone` (IANA). Errors name the offending field;
    /// an expression that can never fire after `now` is refused.
    pub fn parse(expression: &str, zone: &str, now: Timestamp) -> Result<Schedule> {
        let zone = load_zone(zone)?;
        let cron = parse_expression(expression)?;
        let schedule = Schedule { cron, zone };
        if schedule.next_after(now).is_none() {
            return Err(Error::Input(format!(
                "cron expression `{expression}` never fires (no matching date exists)"
            )));
        }
        Ok(schedule)
    }

    /// The first fire strictly after `after`, or `None` if there is none.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let from = after.to_zoned(self.zone.clone());
        self.cron
            .find_next_occurrence(&from, false)
            .ok()
            .map(|next| next.timestamp())
    }

    /// The latest fire at or before `now`, given that `due` is a fire at or before it. Steps
    /// forward from `due`, the same walk that computed every fire so far; after a long outage
    /// of a frequent job it jumps to just before `now` instead of stepping through it all.
    fn latest_at_or_before(&self, due: i64, now: i64) -> i64 {
        let mut latest = due;
        for _ in 0..MAX_FORWARD_STEPS {
            match self.next_seconds(latest) {
                Some(next) if next <= now => latest = next,
                _ => return latest,
            }
        }
        // Two fires back from now, found backwards, then forward again: the forward walk
        // keeps DST gaps and folds exactly as the schedule always treats them.
        let before = |at: i64| {
            let from = Timestamp::from_second(at).ok()?.to_zoned(self.zone.clone());
            let previous = self.cron.find_previous_occurrence(&from, false).ok()?;
            Some(previous.timestamp().as_second())
        };
        let mut latest = before(now + 1)
            .and_then(before)
            .map_or(latest, |start| start.max(latest));
        while let Some(next) = self.next_seconds(latest).filter(|&next| next <= now) {
            latest = next;
        }
        latest
    }

    fn next_seconds(&self, after: i64) -> Option<i64> {
        self.next_after(Timestamp::from_second(after).ok()?)
            .map(|next| next.as_second())
    }
}

/// How a job's fire times are given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// A cron expression, exactly as typed.
    Cron(String),
    /// Once, at this instant (Unix seconds): `--at` and `--in`.
    At(i64),
    /// Every `secs` seconds (typed as `text`, like `90m`), at `anchor + k * secs`.
    Every {
        text: String,
        secs: i64,
        anchor: i64,
    },
}

/// The shortest interval `--every` takes: the scheduler's resolution is a second, but an
/// agent turn more often than once a minute is a loop, not a schedule.
pub const MIN_EVERY_SECS: i64 = 60;

/// After this many missed fires the search for the latest one jumps instead of stepping.
const MAX_FORWARD_STEPS: usize = 1000;

impl Spec {
    /// Whether the job fires once only.
    pub fn is_one_shot(&self) -> bool {
        matches!(self, Spec::At(_))
    }

    /// The first fire strictly after `after` (Unix seconds) in `zone`; `None` when there is
    /// none (a one-shot whose time has come). An error means the schedule no longer loads
    /// (its zone vanished from the system, say).
    pub fn next_after(&self, zone: &str, after: i64) -> Result<Option<i64>> {
        match self {
            Spec::Cron(expression) => {
                let after_ts = timestamp(after)?;
                let schedule = Schedule::parse(expression, zone, after_ts)?;
                Ok(schedule.next_after(after_ts).map(|next| next.as_second()))
            }
            Spec::At(at) => Ok((*at > after).then_some(*at)),
            Spec::Every { secs, anchor, .. } => {
                // The phase never shifts: fires stay on anchor + k * secs, whatever was missed.
                let periods = (after - anchor).div_euclid(*secs) + 1;
                Ok(Some(anchor + periods.max(1) * secs))
            }
        }
    }

    /// The latest fire at or before `now`, given that `due` (the stored next fire, at or
    /// before `now`) is one. Fires missed during downtime coalesce into this one (SPEC §5).
    pub fn latest_fire(&self, zone: &str, due: i64, now: i64) -> Result<i64> {
        match self {
            Spec::At(at) => Ok(*at),
            Spec::Every { secs, anchor, .. } => {
                let periods = (now - anchor).div_euclid(*secs);
                Ok((anchor + periods * secs).max(due))
            }
            Spec::Cron(expression) => {
                let schedule = Schedule::parse(expression, zone, timestamp(due)?)?;
                Ok(schedule.latest_at_or_before(due, now))
            }
        }
    }
}

fn timestamp(seconds: i64) -> Result<Timestamp> {
    Timestamp::from_second(seconds)
        .map_err(|error| Error::Failed(format!("invalid time {seconds}: {error}")))
}

fn parse_expression(expression: &str) -> Result<Cron> {
    let trimmed = expression.trim();
    let expanded = match trimmed.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        other if other.starts_with('@') => {
            return Err(Error::Input(format!(
                "unknown cron nickname `{trimmed}`: use @yearly, @monthly, @weekly, @daily or @hourly"
            )));
        }
        _ => trimmed,
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let names: &[&str] = match fields.len() {
        5 => &FIELDS_5,
        6 => &FIELDS_6,
        n => {
            return Err(Error::Input(format!(
                "cron expression `{trimmed}` has {n} field{}: use 5 (minute hour day-of-month \
                 month day-of-week) or 6 with seconds first",
                if n == 1 { "" } else { "s" }
            )));
        }
    };
    // Parse each field alone among stars, so the error can name the field at fault.
    for (index, name) in names.iter().enumerate() {
        let probe: Vec<&str> = (0..fields.len())
            .map(|i| if i == index { fields[i] } else { "*" })
            .collect();
        if parser(false).parse(&probe.join(" ")).is_err() {
            return Err(Error::Input(format!(
                "invalid {name} field `{}` in cron expression `{trimmed}`: {}",
                fields[index],
                accepted(name)
            )));
        }
    }
    // Vixie cron's day rule: when both day fields are restricted a day matches if either
    // does, but a field starting with `*` (even `*/2`) makes both have to match.
    let day_of_month = fields[names.len() - 3];
    let day_of_week = fields[names.len() - 1];
    let both_must_match = day_of_month.starts_with('*') || day_of_week.starts_with('*');
    parser(both_must_match)
        .parse(&fields.join(" "))
        .map_err(|error| {
            Error::Input(format!(
                "invalid cron expression `{trimmed}`: {}",
                describe(&error)
            ))
        })
}

fn parser(dom_and_dow: bool) -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .dom_and_dow(dom_and_dow)
        .build()
}

/// croner's messages start with its own type names; keep the part a user can act on.
/// What a field takes, in words: the error for a field croner refused (its own text names
/// its internals, like `cronPattern`).
fn accepted(field: &str) -> &'static str {
    match field {
        "second" | "minute" => "use 0-59, with ranges (`0-30`), lists (`0,15,30`) or steps (`*/5`)",
        "hour" => "use 0-23, with ranges (`9-17`), lists (`7,19`) or steps (`*/2`)",
        "day-of-month" => {
            "use 1-31, with ranges, lists or steps, `L` (the last day) or `15W` (the weekday nearest the 15th)"
        }
        "month" => "use 1-12 or JAN-DEC, with ranges (`JAN-MAR`), lists or steps",
        _ => {
            "use 0-7 (0 and 7 are Sunday) or SUN-SAT, with ranges (`MON-FRI`), lists (`MON,THU`), `5L` (the last Friday) or `1#2` (the second Monday)"
        }
    }
}

fn describe(error: &croner::errors::CronError) -> String {
    let text = error.to_string();
    let text = text
        .trim_start_matches("Component error: ")
        .trim_start_matches("Invalid pattern: ")
        .trim_start_matches("Pattern contains illegal characters: ")
        .trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::format_in;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// The next `n` fires after `from`, as RFC 3339 in the job's zone.
    fn check(expression: &str, zone: &str, from: &str, expected: &[&str]) {
        let schedule = Schedule::parse(expression, zone, at(from)).unwrap();
        let mut now = at(from);
        let mut fires = Vec::new();
        for _ in 0..expected.len() {
            now = schedule.next_after(now).unwrap();
            fires.push(format_in(now, &schedule.zone));
        }
        assert_eq!(fires, expected, "{expression} in {zone} from {from}");
    }

    fn error(expression: &str) -> String {
        Schedule::parse(expression, "UTC", at("2026-01-01T00:00:00Z"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn missed_fires_coalesce_into_the_next_future_one() {
        // Down for a day: the next fire is the first one after now, not the first missed.
        let now = 3600 * 24 + 17;
        let spec = Spec::Cron("*/5 * * * *".into());
        assert_eq!(spec.next_after("UTC", now).unwrap(), Some(3600 * 24 + 300));
    }

    #[test]
    fn five_field_expression_fires_at_minute_boundaries() {
        check(
            "*/15 9 * * *",
            "UTC",
            "2026-01-01T09:20:00Z",
            &[
                "2026-01-01T09:30:00+00:00",
                "2026-01-01T09:45:00+00:00",
                "2026-01-02T09:00:00+00:00",
            ],
        );
    }

    #[test]
    fn six_field_expression_has_seconds_first() {
        check(
            "30 0 12 * * *",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2026-01-01T12:00:30+00:00"],
        );
    }

    #[test]
    fn nicknames_and_names_are_understood() {
        check(
            "@daily",
            "UTC",
            "2026-01-01T05:00:00Z",
            &["2026-01-02T00:00:00+00:00"],
        );
        check(
            "@weekly",
            "UTC",
            "2026-01-01T05:00:00Z",
            &["2026-01-04T00:00:00+00:00"],
        );
        check(
            "0 8 * JAN MON-FRI",
            "UTC",
            "2026-01-30T09:00:00Z",
            &["2027-01-01T08:00:00+00:00"],
        );
    }

    #[test]
    fn day_fields_match_either_when_both_restricted() {
        // 1st of the month OR any Monday (Vixie).
        check(
            "0 0 1 * MON",
            "UTC",
            "2026-03-07T12:00:00Z",
            &[
                "2026-03-09T00:00:00+00:00",
                "2026-03-16T00:00:00+00:00",
                "2026-03-23T00:00:00+00:00",
                "2026-03-30T00:00:00+00:00",
                "2026-04-01T00:00:00+00:00",
            ],
        );
    }

    #[test]
    fn star_prefixed_day_field_makes_both_day_fields_required() {
        // `*/2` starts with `*`, so: odd days of the month that are also Mondays.
        check(
            "0 0 */2 * MON",
            "UTC",
            "2026-03-07T12:00:00Z",
            &[
                "2026-03-09T00:00:00+00:00",
                "2026-03-23T00:00:00+00:00",
                "2026-04-13T00:00:00+00:00",
            ],
        );
    }

    #[test]
    fn never_firing_expression_is_rejected() {
        assert!(error("0 0 30 2 *").contains("never fires"));
    }

    #[test]
    fn errors_name_the_offending_field() {
        assert!(
            error("61 * * * *").contains("minute field `61`"),
            "{}",
            error("61 * * * *")
        );
        assert!(error("0 25 * * *").contains("hour field `25`"));
        assert!(error("0 0 * 13 *").contains("month field `13`"));
        assert!(error("0 0 * * FUNDAY").contains("day-of-week field"));
        assert!(error("99 0 0 * * *").contains("second field `99`"));
        assert!(error("* * *").contains("has 3 fields"));
        assert!(error("@reboot").contains("unknown cron nickname"));
    }

    #[test]
    fn unknown_zone_is_an_input_error() {
        let error =
            Schedule::parse("* * * * *", "Mars/Olympus", at("2026-01-01T00:00:00Z")).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error
                .to_string()
                .contains("unknown time zone `Mars/Olympus`")
        );
    }

    #[test]
    fn day_31_skips_short_months() {
        check(
            "0 0 31 * *",
            "UTC",
            "2026-01-31T01:00:00Z",
            &[
                "2026-03-31T00:00:00+00:00",
                "2026-05-31T00:00:00+00:00",
                "2026-07-31T00:00:00+00:00",
            ],
        );
    }

    #[test]
    fn february_29_fires_only_in_leap_years() {
        check(
            "0 0 29 2 *",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"],
        );
    }

    #[test]
    fn last_day_of_month_follows_month_length() {
        check(
            "0 12 L * *",
            "UTC",
            "2026-01-15T00:00:00Z",
            &[
                "2026-01-31T12:00:00+00:00",
                "2026-02-28T12:00:00+00:00",
                "2026-03-31T12:00:00+00:00",
            ],
        );
        check(
            "0 12 L 2 *",
            "UTC",
            "2027-03-01T00:00:00Z",
            &["2028-02-29T12:00:00+00:00"],
        );
    }

    #[test]
    fn nearest_weekday_moves_off_weekends_within_the_month() {
        // 2026-02-15 is a Sunday (→ Monday 16th); 2026-08-15 a Saturday (→ Friday 14th).
        check(
            "0 9 15W 2 *",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2026-02-16T09:00:00+00:00"],
        );
        check(
            "0 9 15W 8 *",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2026-08-14T09:00:00+00:00"],
        );
    }

    #[test]
    fn nth_and_last_weekday_of_month() {
        check(
            "0 9 * * 5#3",
            "UTC",
            "2026-01-01T00:00:00Z",
            &[
                "2026-01-16T09:00:00+00:00",
                "2026-02-20T09:00:00+00:00",
                "2026-03-20T09:00:00+00:00",
            ],
        );
        check(
            "0 9 * * 5L",
            "UTC",
            "2026-01-01T00:00:00Z",
            &[
                "2026-01-30T09:00:00+00:00",
                "2026-02-27T09:00:00+00:00",
                "2026-03-27T09:00:00+00:00",
            ],
        );
    }

    #[test]
    fn friday_or_the_13th_when_both_day_fields_are_restricted() {
        // April 2026: Fridays 3, 10, 17 and Monday the 13th.
        check(
            "0 0 13 * FRI",
            "UTC",
            "2026-04-01T00:00:00Z",
            &[
                "2026-04-03T00:00:00+00:00",
                "2026-04-10T00:00:00+00:00",
                "2026-04-13T00:00:00+00:00",
                "2026-04-17T00:00:00+00:00",
            ],
        );
    }

    #[test]
    fn sunday_is_0_or_7() {
        let sundays = ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"];
        check("0 0 * * 0", "UTC", "2026-01-01T00:00:00Z", &sundays);
        check("0 0 * * 7", "UTC", "2026-01-01T00:00:00Z", &sundays);
        check("0 0 * * SUN", "UTC", "2026-01-01T00:00:00Z", &sundays);
    }

    #[test]
    fn fixed_time_in_spring_forward_gap_fires_once_right_after_it() {
        check(
            "30 2 * * *",
            "Europe/Berlin",
            "2026-03-28T12:00:00Z",
            &["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
        );
        check(
            "30 2 * * *",
            "America/New_York",
            "2026-03-07T12:00:00Z",
            &["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
        );
    }

    #[test]
    fn fixed_time_in_fall_back_hour_fires_once() {
        check(
            "30 2 * * *",
            "Europe/Berlin",
            "2026-10-24T12:00:00Z",
            &["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"],
        );
        // Restarted between the two 01:30s: the second one is not a new fire.
        check(
            "30 1 * * *",
            "America/New_York",
            "2026-11-01T05:45:00Z",
            &["2026-11-02T01:30:00-05:00"],
        );
    }

    #[test]
    fn hourly_jobs_follow_the_clock_through_dst_like_vixie() {
        // The 02:00 hour does not exist on spring-forward day.
        check(
            "0 * * * *",
            "America/New_York",
            "2026-03-08T05:30:00Z",
            &["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"],
        );
        // A wildcard job runs in both 01:00 hours on fall-back day: time really passes.
        check(
            "*/30 * * * *",
            "America/New_York",
            "2026-11-01T04:45:00Z",
            &[
                "2026-11-01T01:00:00-04:00",
                "2026-11-01T01:30:00-04:00",
                "2026-11-01T01:00:00-05:00",
                "2026-11-01T01:30:00-05:00",
                "2026-11-01T02:00:00-05:00",
            ],
        );
    }

    proptest::proptest! {
        #[test]
        fn any_expression_parses_or_errors_without_panicking(
            expression in "[0-9*/,LW#A-Za-z@? -]{0,40}",
            zone in "(UTC|Asia/Jakarta|America/New_York|Europe/Berlin|[A-Za-z/_]{0,12})",
        ) {
            let now = at("2026-03-08T06:59:00Z");
            if let Ok(schedule) = Schedule::parse(&expression, &zone, now) {
                let next = schedule.next_after(now).expect("parse checked that it fires");
                proptest::prop_assert!(next > now);
            }
        }
    }
}
