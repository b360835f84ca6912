//! Child processes that never outlive nanopy: each MCP server runs in its own process group
//! (so `npx` and the `node` it starts go together), gets SIGKILL from the kernel if nanopy
//! dies first (`PR_SET_PDEATHSIG`), and, in the one-shot commands, a SIGTERM or SIGINT to
//! nanopy kills the groups still registered before nanopy itself ends.
//!
//! This is the crate's only `unsafe` code: `pre_exec`, `kill` and a signal handler need it.
#![allow(unsafe_code)]

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::Once;
use std::sync::atomic::{AtomicI32, Ordering};

/// Process groups a signal handler may have to kill; a fixed table, because a handler may
/// not allocate or lock.
static GROUPS: [AtomicI32; 32] = [const { AtomicI32::new(0) }; 32];

/// Spawns `command` as the leader of a new process group, to be killed with its parent.
pub fn spawn(command: &mut Command) -> io::Result<Child> {
    command.process_group(0);
    // SAFETY: the closure runs between fork and exec and only makes the prctl system call,
    // which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn()?;
    let pgid = child.id() as i32;
    // Past 32 live groups a signal handler would miss the rest; the parent-death signal
    // still ends their leaders.
    let _ = GROUPS.iter().any(|slot| {
        slot.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    });
    Ok(child)
}

/// Sends `signal` to every process of the group `pgid` leads.
pub fn signal(pgid: u32, signal: i32) {
    // SAFETY: kill has no memory effects; a group that is gone gives ESRCH, which is fine.
    unsafe {
        libc::kill(-(pgid as i32), signal);
    }
}

/// The group is reaped: a signal to nanopy no longer needs to kill it.
pub fn forget(pgid: u32) {
    for slot in &GROUPS {
        let _ = slot.compare_exchange(pgid as i32, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// From now on, SIGTERM, SIGINT and SIGHUP kill the registered groups, then end nanopy as
/// the signal would have. For one-shot commands only: `cron-run` handles these signals
/// itself and shuts its servers down when each job ends.
pub fn kill_groups_on_signals() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            // SAFETY: the action only reads atomics and calls kill and the default-action
            // emulation, all async-signal-safe.
            let _ = unsafe {
                signal_hook::low_level::register(sig, move || {
                    for slot in &GROUPS {
                        let pgid = slot.load(Ordering::SeqCst);
                        if pgid > 0 {
                            libc::kill(-pgid, libc::SIGKILL);
                        }
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(sig);
                })
            };
        }
    });
}

/// How many live (not zombie) processes are in group `pgid`, from `/proc`.
#[cfg(test)]
pub fn live_members(pgid: u32) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // After the `(comm)` field: state, ppid, pgrp.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_signal_to_the_group_reaches_the_grandchildren() {
        let mut child =
            spawn(Command::new("sh").args(["-c", "sleep 30 & sleep 30; wait"])).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let pgid = child.id();
        signal(pgid, libc::SIGKILL);
        child.wait().unwrap();
        forget(pgid);
        // No live process is left in the group (zombies wait for init to reap them).
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(live_members(pgid), 0, "a process of the group survived");
        assert!(
            GROUPS
                .iter()
                .all(|slot| slot.load(Ordering::SeqCst) != pgid as i32)
        );
    }
}
