//! The wall clock in whole Unix seconds, the one unit our stores, TTLs and schedules use.
//! Cores take "now" as an argument; only the edges call this.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix seconds.
pub fn now() -> i64 {
    unix_seconds(SystemTime::now())
}

/// `time` in Unix seconds; a clock before 1970 reads as 0 rather than failing.
pub fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}
