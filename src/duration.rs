//! Durations as people type them: `90s`, `15m`, `2h`, `7d`, or sums like `1h30m`.

use std::time::Duration;

/// Parses `text`; the error says what a duration looks like, for the caller to put after the
/// flag or argument it came from.
pub fn parse(text: &str) -> Result<Duration, String> {
    match parse_allowing_zero(text)? {
        Duration::ZERO => Err(format!(
            "`{text}` is no time at all: give more than 0, like `90s` or `2h`"
        )),
        duration => Ok(duration),
    }
}

/// As [`parse`], but `0s` (or `0m`) is a duration of zero, for callers with their own minimum.
pub fn parse_allowing_zero(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "invalid duration `{text}`: use whole numbers with s, m, h or d, like `90s`, `2h` \
             or `1h30m`"
        )
    };
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(invalid()),
        };
        let value: u64 = number.parse().map_err(|_| invalid())?;
        number.clear();
        total = value
            .checked_mul(unit)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(invalid)?;
    }
    // A trailing number without a unit (`10`, `1h30`) is ambiguous: refuse it.
    if !number.is_empty() || text.is_empty() || total > i64::MAX as u64 {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_sums() {
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        for bad in [
            "",
            "s",
            "10",
            "5w",
            "-1s",
            "0s",
            "1.5h",
            "1h30",
            "h1",
            "99999999999999999999d",
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
    }
}
