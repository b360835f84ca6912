//! Which process owns a run: its pid, its start time and the boot it runs in, so that a pid
//! reused after a crash or a reboot is never taken for the owner still being alive.
//!
//! A pid alone is not enough: a daemon started at boot often gets the same pid after the next
//! boot, and would then think the run it lost to the power cut was still its own.

use std::sync::OnceLock;

/// This process, as stored in the `owner` column of runs: `<boot id> <pid> <start time>`.
pub fn current() -> &'static str {
    static CURRENT: OnceLock<String> = OnceLock::new();
    CURRENT.get_or_init(|| {
        let pid = std::process::id();
        format!(
            "{} {pid} {}",
            boot_id(),
            start_time(pid).unwrap_or_default()
        )
    })
}

/// Whether the process recorded as `owner` is still running.
pub fn is_alive(owner: &str) -> bool {
    let mut parts = owner.split(' ');
    let (Some(boot), Some(pid), Some(start)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    boot == boot_id() && start_time(pid).is_some_and(|now| now.to_string() == start)
}

/// The kernel's id for this boot; changes at every reboot.
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|id| id.trim().to_string())
        .unwrap_or_default()
}

/// When process `pid` started, in clock ticks since boot (field 22 of /proc/PID/stat).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields after it do not.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive() {
        assert!(is_alive(current()));
    }

    #[test]
    fn a_reused_pid_or_another_boot_is_not_alive() {
        let mut parts: Vec<String> = current().split(' ').map(str::to_string).collect();
        let other_start = format!("{}", parts[2].parse::<u64>().unwrap() + 1);
        let same_pid_later = format!("{} {} {other_start}", parts[0], parts[1]);
        assert!(!is_alive(&same_pid_later));
        parts[0] = "00000000-0000-0000-0000-000000000000".into();
        assert!(!is_alive(&parts.join(" ")));
        assert!(!is_alive("garbage"));
        assert!(!is_alive(""));
    }
}
