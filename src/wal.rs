//! Keeping an SQLite write-ahead log short when no process lives long. The first connection
//! of a process rebuilds the WAL's index by reading the whole file, and the rebuilt index no
//! longer knows what was checkpointed, so the log never restarts from its beginning: with
//! only short-lived commands it grows without bound (measured: 400 `cron-add`s, 4.9 MB),
//! every open reads all of it, and past SQLite's automatic threshold every commit checkpoints
//! it whole. So a process that leaves it longer than [`MAX_WAL_BYTES`] folds it into the
//! database and truncates it: a few fsyncs, once every few dozen commands.

use rusqlite::Connection;
use std::path::{Path, PathBuf};

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
