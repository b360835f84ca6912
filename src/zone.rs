//! Time zones by name, read straight from the system's zoneinfo file, and times shown in a
//! zone (RFC 3339 with offset), for the scheduler, the log and every command that prints one. jiff's own lookup walks
//! the whole `/usr/share/zoneinfo` tree on first use (about a millisecond, paid by every
//! short command that names a zone or runs with `TZ` set); one file read costs microseconds.
//! Anything unusual (a POSIX `TZ` string, a missing file) goes to jiff as before.

use crate::error::{Error, Result};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::path::PathBuf;

/// The zone called `name` (an IANA name like `Europe/Berlin`), if the system has it.
pub fn by_name(name: &str) -> Option<TimeZone> {
    if is_plain_name(name) {
        let dir = std::env::var_os("TZDIR")
            .map_or_else(|| PathBuf::from("/usr/share/zoneinfo"), PathBuf::from);
        if let Ok(bytes) = std::fs::read(dir.join(name))
            && let Ok(zone) = TimeZone::tzif(name, &bytes)
        {
            return Some(zone);
        }
    }
    TimeZone::get(name).ok()
}

/// The local zone: `TZ` when it names a zone, else the zone `/etc/localtime` links to
/// (jiff's rules, which jiff follows by looking the name up in the whole tree).
pub fn local() -> TimeZone {
    let name = match std::env::var("TZ") {
        Ok(name) => Some(name),
        Err(_) => std::fs::read_link("/etc/localtime")
            .ok()
            .and_then(|target| {
                let target = target.to_str()?;
                let at = target.find("zoneinfo/")?;
                Some(target[at + "zoneinfo/".len()..].to_string())
            }),
    };
    name.filter(|name| is_plain_name(name))
        .and_then(|name| by_name(&name))
        .unwrap_or_else(TimeZone::system)
}

/// A name that can only mean a file under the zoneinfo directory: no absolute path, no
/// `..`, nothing but the characters IANA names use.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
}

/// Loads an IANA zone from the system database, with an error that says what to do.
pub fn load_zone(name: &str) -> Result<TimeZone> {
    by_name(name).ok_or_else(|| {
        Error::Input(format!(
            "unknown time zone `{name}`: use an IANA name like `Europe/Berlin` or `UTC` \
             (zones are read from /usr/share/zoneinfo; install the tzdata package if it is missing)"
        ))
    })
}

/// The system's zone name: `TZ` if set, else `/etc/localtime`; `UTC` when neither names one.
pub fn system_zone_name() -> String {
    local()
        .iana_name()
        .map(str::to_string)
        .unwrap_or_else(|| "UTC".to_string())
}

/// Formats an instant in a zone as RFC 3339 with offset, like `2026-11-26T07:00:00+07:00`.
pub fn format_in(instant: Timestamp, zone: &TimeZone) -> String {
    instant
        .to_zoned(zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// A stored Unix time as RFC 3339 in the zone `tz` (UTC if the zone cannot be loaded).
pub fn time_in_zone(seconds: Option<i64>, tz: &str) -> Option<String> {
    let instant = Timestamp::from_second(seconds?).ok()?;
    let zone = load_zone(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    Some(format_in(instant, &zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_the_zoneinfo_directory_are_not_read_as_files() {
        for bad in [
            "",
            "/etc/passwd",
            "../etc/passwd",
            "Europe/../../x",
            "a//b",
            "UTC0,M3",
        ] {
            assert!(!is_plain_name(bad), "{bad}");
        }
        for good in [
            "UTC",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+7",
        ] {
            assert!(is_plain_name(good), "{good}");
        }
    }

    #[test]
    fn a_zone_read_from_its_file_is_the_zone_jiff_finds() {
        let direct = by_name("America/New_York").expect("tzdata is installed");
        let jiff = TimeZone::get("America/New_York").unwrap();
        let instant: jiff::Timestamp = "2026-07-01T12:00:00Z".parse().unwrap();
        assert_eq!(direct.to_offset(instant), jiff.to_offset(instant));
        assert_eq!(direct.iana_name(), Some("America/New_York"));
        assert!(by_name("No/Such_Zone").is_none());
    }
}
