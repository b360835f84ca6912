//! Opening one of our SQLite files (the job store, the log) the one careful way: create it
//! private, recognise it by reading alone and refuse what is not ours before anything is
//! written (not even a journal-mode pragma), then WAL, the durability the file needs, the
//! schema migrated forward in one transaction, and a short write-ahead log left behind.

use crate::error::{Error, Result};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which of our files this is, as messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    JobStore,
    Log,
}

impl Kind {
    /// `job store`, `log`.
    pub fn label(self) -> &'static str {
        match self {
            Kind::JobStore => "job store",
            Kind::Log => "log",
        }
    }

    /// What a user moving a refused file away starts: `store`, `log`.
    fn fresh(self) -> &'static str {
        match self {
            Kind::JobStore => "store",
            Kind::Log => "log",
        }
    }
}

/// How a kind of file is opened.
pub struct Schema {
    pub kind: Kind,
    /// The schema version this build writes.
    pub version: i64,
    /// How long a statement waits for another process's write before failing.
    pub busy_timeout: Duration,
    /// `FULL` where a lost commit does harm (a claimed fire), `NORMAL` where it costs little.
    pub synchronous: &'static str,
    /// Looks at an existing file before anything is written: `Some(reason)` refuses it.
    pub refuse: fn(&Connection) -> rusqlite::Result<Option<String>>,
    /// Brings a file of version `from` (0: new) up to `version`, inside one transaction.
    pub migrate: fn(&rusqlite::Transaction, from: i64) -> rusqlite::Result<()>,
}

/// An open file of ours. Dropping it keeps its write-ahead log short.
pub struct Database {
    pub conn: Connection,
    pub path: PathBuf,
    kind: Kind,
    /// Set once the file is recognised as ours: a refused file is never written, not even
    /// by the WAL truncation on drop.
    accepted: bool,
}

impl Database {
    /// Opens (creating it, mode 0600, if absent) and migrates the file at `path`. A file
    /// that is not a database, has a newer schema or is refused by `schema.refuse` is left
    /// byte for byte as it was, and the error says why (exit 3).
    pub fn open(path: &Path, schema: &Schema) -> Result<Database> {
        let kind = schema.kind;
        if !path.exists() {
            // Created by us, so it is private from the first byte.
            crate::atomic_file::open_private(path).map_err(Error::file(
                match kind {
                    Kind::JobStore => "create the job store",
                    Kind::Log => "create the log",
                },
                path,
            ))?;
        }
        let conn = Connection::open(path).map_err(Error::database(kind.label(), path))?;
        let mut database = Database {
            conn,
            path: path.to_path_buf(),
            kind,
            accepted: false,
        };
        database.prepare(schema).map_err(|error| match error {
            Error::Database { path, source, .. }
                if source.sqlite_error_code() == Some(ErrorCode::NotADatabase) =>
            {
                Error::DatabaseRefused {
                    what: kind.label(),
                    path,
                    reason: format!(
                        "the file is not an SQLite database; move it away to start a new {}",
                        kind.fresh()
                    ),
                }
            }
            other => other,
        })?;
        database.accepted = true;
        Ok(database)
    }

    /// An error of this file, for `map_err` on rusqlite results.
    fn error(&self) -> impl FnOnce(rusqlite::Error) -> Error {
        Error::database(self.kind.label(), &self.path)
    }

    fn prepare(&mut self, schema: &Schema) -> Result<()> {
        self.conn
            .busy_timeout(schema.busy_timeout)
            .map_err(self.error())?;
        let version = self.recognise(schema)?;
        crate::wal::enable(&self.conn).map_err(self.error())?;
        self.conn
            .pragma_update(None, "synchronous", schema.synchronous)
            .map_err(self.error())?;
        // No checkpoint on close, which costs fsyncs every short-lived command would pay;
        // `wal::truncate_if_long` on drop (and the daemon) keep the WAL short instead.
        self.conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(self.error())?;
        if version < schema.version {
            self.migrate(schema)?;
        }
        Ok(())
    }

    /// Reads (never writes) what the file is, and refuses what is not ours; returns its
    /// schema version.
    fn recognise(&self, schema: &Schema) -> Result<i64> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(self.error())?;
        let refused = (schema.refuse)(&self.conn).map_err(self.error())?;
        let reason = refused.or_else(|| {
            (version > schema.version).then(|| {
                format!(
                    "schema version {version} is newer than this nanopy understands ({}); \
                     upgrade nanopy",
                    schema.version
                )
            })
        });
        match reason {
            Some(reason) => Err(Error::DatabaseRefused {
                what: self.kind.label(),
                path: self.path.clone(),
                reason,
            }),
            None => Ok(version),
        }
    }

    /// Brings an older schema forward, in one transaction; another process may have done it
    /// meanwhile, so the version is read again under the write lock.
    fn migrate(&mut self, schema: &Schema) -> Result<()> {
        let error = Error::database(self.kind.label(), &self.path);
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            if version < schema.version {
                (schema.migrate)(&tx, version)?;
                tx.pragma_update(None, "user_version", schema.version)?;
            }
            tx.commit()
        })();
        result.map_err(error)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if self.accepted {
            crate::wal::truncate_if_long(&self.conn, &self.path);
        }
    }
}

/// A schema for files that have nothing to refuse beyond a newer version.
pub fn refuse_nothing(_: &Connection) -> rusqlite::Result<Option<String>> {
    Ok(None)
}
