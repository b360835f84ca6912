//! Keeping an SQLite write-ahead log short when no process lives long. The first connection
//! of a process rebuilds the WAL's index by reading the whole file, and the rebuilt index no
//! longer knows what was checkpointed, so the log never restarts from its beginning: with
//! only short-lived commands it grows without bound (measured: 400 `cron-add`s, 4.9 MB),
//! every open reads all of it, and past SQLite's automatic threshold every commit checkpoints
//! it whole. So a process that leaves it longer than [`MAX_WAL_BYTES`] folds it into the
//! database and truncates it: a few fsyncs, once every few dozen commands.

use rusqlite::{Connection, ErrorCode};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long [`enable`] keeps trying while other processes set the same new file up.
const ENABLE_PATIENCE: Duration = Duration::from_secs(5);

/// Puts the database in WAL mode unless it already is. Switching takes an exclusive lock,
/// and when several processes open a brand new file at once SQLite answers "database is
/// locked" at once instead of calling the busy handler (waiting could deadlock two
/// connections that each hold a shared lock), so the switch is retried here for a while,
/// with a short sleep that differs per process so they do not collide again.
pub fn enable(conn: &Connection) -> rusqlite::Result<()> {
    let started = Instant::now();
    let pause = Duration::from_millis(2 + u64::from(std::process::id() % 7));
    loop {
        let attempt = conn
            .pragma_query_value(None, "journal_mode", |row| row.get::<_, String>(0))
            .and_then(|mode| match mode.as_str() {
                "wal" => Ok(()),
                _ => conn.pragma_update(None, "journal_mode", "WAL"),
            });
        match attempt {
            Err(error)
                if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && started.elapsed() < ENABLE_PATIENCE =>
            {
                std::thread::sleep(pause);
            }
            other => return other,
        }
    }
}

/// The longest write-ahead log a process leaves behind: about 60 pages.
pub const MAX_WAL_BYTES: u64 = 256 * 1024;

/// Checkpoints and truncates the WAL of `db` if it is longer than [`MAX_WAL_BYTES`]. Best
/// effort: when another process is busy with the file, the next one does it.
pub fn truncate_if_long(conn: &Connection, db: &Path) {
    let long = std::fs::metadata(wal_path(db)).is_ok_and(|meta| meta.len() > MAX_WAL_BYTES);
    if long {
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
}

/// `<db>-wal`, where SQLite keeps the write-ahead log.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_connections_switching_a_new_file_at_once_all_succeed() {
        let dir = crate::test_support::scratch_dir("wal-enable");
        for round in 0..20 {
            let path = dir.join(format!("db{round}.sqlite"));
            std::fs::File::create(&path).unwrap();
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || {
                        let conn = Connection::open(&path).unwrap();
                        conn.busy_timeout(Duration::from_secs(5)).unwrap();
                        enable(&conn)
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap().unwrap();
            }
        }
    }
}
