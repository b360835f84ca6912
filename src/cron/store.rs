//! The job store (SQLite, like the conversation log in `log.rs`): jobs, their run history,
//! and the compare-and-set claim that makes each fire run once even with several schedulers
//! on one file.

use super::schedule::Spec;
use crate::database::{Database, Kind, Schema};
use crate::error::{Error, Result};
use crate::truncate;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// The schema this build writes; older stores are migrated forward on open.
const SCHEMA_VERSION: i64 = 4;
/// How long a statement waits for another process's write before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Runs kept per job.
pub const MAX_RUNS_PER_JOB: i64 = 100;
/// Stored output and error text is capped at this many bytes.
pub const MAX_STORED_TEXT: usize = 16 * 1024;

const SCHEMA_V1: &str = "
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    message     TEXT NOT NULL,
    cron        TEXT NOT NULL,          -- the expression exactly as typed
    tz          TEXT NOT NULL,          -- IANA zone
    enabled     INTEGER NOT NULL DEFAULT 1,
    grace_secs  INTEGER NOT NULL DEFAULT 600,
    notify      TEXT,
    next_fire   INTEGER,                -- Unix seconds (UTC); NULL when disabled
    last_status TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX jobs_by_next_fire ON jobs (enabled, next_fire);
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    job          TEXT NOT NULL,
    scheduled_at INTEGER,               -- NULL for `cron-fire`
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    status       TEXT NOT NULL,         -- running, ok, failed, missed, skipped, interrupted
    output       TEXT,
    error        TEXT,
    owner        TEXT                   -- the process running it (owner.rs), to spot runs cut short
);
CREATE INDEX runs_by_job ON runs (job, id);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL              -- last_seen: the latest wall-clock time a scheduler saw
);
";

/// Version 2: one-shot (`at`) and interval (`every`) schedules beside cron expressions, and
/// per-job model, provider, session and tools. SQLite cannot relax the NOT NULL of `cron` in
/// place, so the table is rebuilt, keeping ids, so run history stays attached by name.
const MIGRATE_V2: &str = "
DROP INDEX jobs_by_next_fire;
ALTER TABLE jobs RENAME TO jobs_v1;
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    message     TEXT NOT NULL,
    cron        TEXT,                   -- cron jobs: the expression exactly as typed
    at          INTEGER,                -- one-shot jobs: the fire time, Unix seconds
    every       TEXT,                   -- interval jobs: the interval exactly as typed
    every_secs  INTEGER,
    anchor      INTEGER,                -- interval jobs: fires fall on anchor + k * every_secs
    tz          TEXT NOT NULL,          -- IANA zone
    enabled     INTEGER NOT NULL DEFAULT 1,
    grace_secs  INTEGER NOT NULL DEFAULT 600,
    notify      TEXT,
    model       TEXT,                   -- NULL: the config's at the time of the fire
    provider    TEXT,
    session     TEXT,
    tools       INTEGER NOT NULL DEFAULT 1,
    next_fire   INTEGER,                -- Unix seconds (UTC); NULL when disabled or done
    last_status TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((cron IS NOT NULL) + (at IS NOT NULL) + (every IS NOT NULL) = 1)
);
INSERT INTO jobs (id, name, message, cron, tz, enabled, grace_secs, notify, next_fire,
                  last_status, created_at, updated_at)
    SELECT id, name, message, cron, tz, enabled, grace_secs, notify, next_fire, last_status,
           created_at, updated_at FROM jobs_v1;
DROP TABLE jobs_v1;
CREATE INDEX jobs_by_next_fire ON jobs (enabled, next_fire);
";

/// How a run ended, or that it is still going. Stored as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Claimed and started; not finished yet.
    Running,
    /// The job's turn answered.
    Ok,
    /// The job's turn failed, or its schedule could not be computed.
    Failed,
    /// The fire was later than the job's grace.
    Missed,
    /// The fire came while the job's previous run was still going.
    Skipped,
    /// The process running it stopped or died before it finished.
    Interrupted,
    /// Nothing to report: its `--check` said so, or its `--quiet` turn answered
    /// `NOTHING_TO_REPORT` (SPEC §12).
    Quiet,
}

impl RunStatus {
    const ALL: [RunStatus; 7] = [
        RunStatus::Running,
        RunStatus::Ok,
        RunStatus::Failed,
        RunStatus::Missed,
        RunStatus::Skipped,
        RunStatus::Interrupted,
        RunStatus::Quiet,
    ];

    /// The statuses `--notify-on` may name (every finished one).
    pub const FINISHED: [RunStatus; 6] = [
        RunStatus::Ok,
        RunStatus::Failed,
        RunStatus::Missed,
        RunStatus::Quiet,
        RunStatus::Skipped,
        RunStatus::Interrupted,
    ];

    /// The status called `name`, if it is a finished one.
    pub fn finished_named(name: &str) -> Option<RunStatus> {
        RunStatus::FINISHED
            .into_iter()
            .find(|status| status.as_str() == name)
    }

    /// The name stored, printed and given to `--notify` as `NANOPY_STATUS`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Missed => "missed",
            RunStatus::Skipped => "skipped",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Quiet => "quiet",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for RunStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for RunStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| FromSqlError::Other(format!("unknown run status `{text}`").into()))
    }
}

/// What a job is: everything `cron-add` sets and `cron-edit` changes.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDef {
    pub name: String,
    pub message: String,
    pub spec: Spec,
    pub tz: String,
    pub grace_secs: i64,
    pub notify: Option<String>,
    /// The model its turns use; `None` follows the config at the time of the fire.
    pub model: Option<String>,
    /// The provider its turns use; `None` follows the config.
    pub provider: Option<String>,
    /// The conversation its turns continue, if any.
    pub session: Option<String>,
    /// Whether its turns are offered tools.
    pub tools: bool,
    /// Where and when its runs are delivered, and whether it may stay quiet (SPEC §12).
    pub reporting: Reporting,
    /// Files (`--file`) read at every fire and sent with its message (SPEC §15).
    pub files: Vec<String>,
}

/// A job's delivery settings: `--to`, `--notify-on`, `--check`, `--quiet`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reporting {
    /// Target names (`--to`), in the order given.
    pub to: Vec<String>,
    /// The statuses that deliver; `None` is the default, [`DEFAULT_NOTIFY_ON`].
    pub notify_on: Option<Vec<RunStatus>>,
    /// A command run before the turn: exit 1 means nothing to do.
    pub check: Option<String>,
    /// The turn may answer `NOTHING_TO_REPORT`.
    pub quiet: bool,
}

/// The statuses that deliver when `--notify-on` is not given.
pub const DEFAULT_NOTIFY_ON: [RunStatus; 3] = [RunStatus::Ok, RunStatus::Failed, RunStatus::Missed];

impl Reporting {
    /// Whether a run that ended with `status` is delivered to the job's targets.
    pub fn delivers(&self, status: RunStatus) -> bool {
        match &self.notify_on {
            Some(list) => list.contains(&status),
            None => DEFAULT_NOTIFY_ON.contains(&status),
        }
    }

    /// `--notify-on` as stored and shown: comma-separated names.
    pub fn notify_on_text(&self) -> String {
        let list: &[RunStatus] = self.notify_on.as_deref().unwrap_or(&DEFAULT_NOTIFY_ON);
        list.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A stored job: its definition and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub def: JobDef,
    pub enabled: bool,
    pub next_fire: Option<i64>,
    pub last_status: Option<RunStatus>,
}

/// How a claimed fire leaves its job: the fire it is for, the next one, whether the job stays
/// enabled (a one-shot that fired does not), and what the run is recorded as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Claim {
    pub scheduled: i64,
    pub next_fire: Option<i64>,
    pub enabled: bool,
    pub status: RunStatus,
}

/// One recorded run.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: i64,
    pub job: String,
    pub scheduled_at: Option<i64>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: RunStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    /// The provider that answered the run's turn.
    pub provider: Option<String>,
}

/// Version 3: which provider answered a run (SPEC §9), for `cron-history`.
const MIGRATE_V3: &str = "ALTER TABLE runs ADD COLUMN provider TEXT;";

/// Version 4: where a job's runs are delivered and when (SPEC §12), quiet jobs, and the
/// outbox of deliveries.
const MIGRATE_V4: &str = "
ALTER TABLE jobs ADD COLUMN targets TEXT;       -- JSON array of target names (`--to`)
ALTER TABLE jobs ADD COLUMN notify_on TEXT;     -- comma-separated statuses; NULL: the default
ALTER TABLE jobs ADD COLUMN check_cmd TEXT;     -- `--check CMD`
ALTER TABLE jobs ADD COLUMN quiet INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN files TEXT;         -- JSON array of paths read at every fire
CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    run           INTEGER NOT NULL,       -- runs.id
    job           TEXT NOT NULL,
    target        TEXT NOT NULL,          -- the target's name; `--notify` for the notify command
    command       TEXT,                   -- the `--notify` command, as it was at the run
    status        TEXT NOT NULL,          -- the run's status
    scheduled_at  INTEGER,
    started_at    INTEGER,
    text          TEXT NOT NULL,
    state         TEXT NOT NULL,          -- pending, sending, sent, held, failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  INTEGER NOT NULL,       -- Unix seconds
    created_at    INTEGER NOT NULL,
    claimed_until INTEGER,                -- a `sending` claim expires then (a killed sender)
    last_error    TEXT
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt);
CREATE INDEX deliveries_by_run ON deliveries (run);
";

/// How long a sender's claim on a delivery lasts: past it, a killed sender's delivery is
/// claimed again (sent at least once, never lost).
pub const CLAIM_SECS: i64 = 300;

/// Which deliveries are due at `?1`.
const DUE: &str = "(state IN ('pending', 'held') AND next_attempt <= ?1)
                   OR (state = 'sending' AND claimed_until < ?1)";
const DUE_COUNT: &str = "SELECT count(*) FROM deliveries WHERE (state IN ('pending', 'held')
                         AND next_attempt <= ?1) OR (state = 'sending' AND claimed_until < ?1)";

/// A delivery a finishing run asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// The target's name; `--notify` for the job's notify command.
    pub target: String,
    /// The `--notify` command.
    pub command: Option<String>,
    /// Its own text instead of the run's output or error (a run made quiet by its check).
    pub text: Option<String>,
    /// Held by quiet hours until then.
    pub held_until: Option<i64>,
}

/// One delivery of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub run: i64,
    pub job: String,
    pub target: String,
    pub command: Option<String>,
    /// The run's status.
    pub status: String,
    pub scheduled_at: Option<i64>,
    pub started_at: Option<i64>,
    pub text: String,
    /// `pending`, `sending`, `sent`, `held` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt: i64,
    pub created_at: i64,
    pub last_error: Option<String>,
}

/// What became of a send.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    Sent,
    /// Try again at `at`.
    Retry {
        at: i64,
        error: String,
    },
    /// Given up.
    Failed {
        error: String,
    },
    /// Quiet hours: not tried, wait until then.
    Held {
        until: i64,
    },
}

/// Row ids as an SQL list: integers only, so nothing from outside reaches the SQL text.
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn deliveries_where<P: rusqlite::Params>(
    conn: &Connection,
    condition: &str,
    params: P,
) -> rusqlite::Result<Vec<Delivery>> {
    let mut statement = conn.prepare(&format!(
        "SELECT id, run, job, target, command, status, scheduled_at, started_at, text, state,
                attempts, next_attempt, created_at, last_error
         FROM deliveries WHERE {condition} ORDER BY id"
    ))?;
    statement
        .query_map(params, |row| {
            Ok(Delivery {
                id: row.get(0)?,
                run: row.get(1)?,
                job: row.get(2)?,
                target: row.get(3)?,
                command: row.get(4)?,
                status: row.get(5)?,
                scheduled_at: row.get(6)?,
                started_at: row.get(7)?,
                text: row.get(8)?,
                state: row.get(9)?,
                attempts: row.get(10)?,
                next_attempt: row.get(11)?,
                created_at: row.get(12)?,
                last_error: row.get(13)?,
            })
        })?
        .collect()
}

/// An open store.
pub struct Store {
    db: Database,
}

/// How the store is opened. FULL: a commit is on disk before it returns, so a claimed fire
/// stays claimed through a power cut (in WAL mode NORMAL may lose the last commits, and a lost
/// claim is a fire run twice). The cost is one fsync per commit, so no checkpoint on close:
/// a short-lived command pays only for its own commits; the daemon and SQLite's automatic
/// checkpoints keep the WAL short.
const SCHEMA: Schema = Schema {
    kind: Kind::JobStore,
    version: SCHEMA_VERSION,
    busy_timeout: BUSY_TIMEOUT,
    synchronous: "FULL",
    refuse: refuse_apscheduler,
    migrate,
};

/// The Python tool's APScheduler store is refused: nanopy cannot read its pickled jobs.
fn refuse_apscheduler(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let apscheduler: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'apscheduler_jobs'",
        [],
        |row| row.get(0),
    )?;
    Ok((apscheduler > 0).then(|| {
        "this is the Python tool's APScheduler job store, which nanopy cannot read; point \
         `scheduler_db_path` at a new file and re-add the jobs with `nanopy cron-add`"
            .to_string()
    }))
}

/// Brings a store of version `from` (0: new) up to [`SCHEMA_VERSION`].
fn migrate(tx: &rusqlite::Transaction, from: i64) -> rusqlite::Result<()> {
    if from < 1 {
        tx.execute_batch(SCHEMA_V1)?;
    }
    if from < 2 {
        tx.execute_batch(MIGRATE_V2)?;
    }
    if from < 3 {
        tx.execute_batch(MIGRATE_V3)?;
    }
    if from < 4 {
        tx.execute_batch(MIGRATE_V4)?;
    }
    Ok(())
}

const JOB_COLUMNS: &str = "id, name, message, cron, at, every, every_secs, anchor, tz, enabled, \
     grace_secs, notify, model, provider, session, tools, next_fire, last_status, targets, \
     notify_on, check_cmd, quiet, files";

fn job_from_row(row: &rusqlite::Row) -> rusqlite::Result<Job> {
    let cron: Option<String> = row.get(3)?;
    let at: Option<i64> = row.get(4)?;
    let every: Option<String> = row.get(5)?;
    let spec = match (cron, at, every) {
        (Some(expression), _, _) => Spec::Cron(expression),
        (None, Some(at), _) => Spec::At(at),
        (None, None, Some(text)) => Spec::Every {
            text,
            secs: row.get(6)?,
            anchor: row.get(7)?,
        },
        // The table's CHECK constraint makes this unreachable for rows we wrote.
        (None, None, None) => {
            return Err(rusqlite::Error::InvalidColumnType(
                3,
                "cron".into(),
                rusqlite::types::Type::Null,
            ));
        }
    };
    Ok(Job {
        id: row.get(0)?,
        def: JobDef {
            name: row.get(1)?,
            message: row.get(2)?,
            spec,
            tz: row.get(8)?,
            grace_secs: row.get(10)?,
            notify: row.get(11)?,
            model: row.get(12)?,
            provider: row.get(13)?,
            session: row.get(14)?,
            tools: row.get(15)?,
            reporting: Reporting {
                to: row
                    .get::<_, Option<String>>(18)?
                    .and_then(|text| serde_json::from_str(&text).ok())
                    .unwrap_or_default(),
                notify_on: row.get::<_, Option<String>>(19)?.map(|text| {
                    text.split(',')
                        .filter_map(RunStatus::finished_named)
                        .collect()
                }),
                check: row.get(20)?,
                quiet: row.get(21)?,
            },
            files: row
                .get::<_, Option<String>>(22)?
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default(),
        },
        enabled: row.get(9)?,
        next_fire: row.get(16)?,
        last_status: row.get(17)?,
    })
}

/// The schedule columns of a spec: cron, at, every, every_secs, anchor.
type SpecColumns<'a> = (
    Option<&'a str>,
    Option<i64>,
    Option<&'a str>,
    Option<i64>,
    Option<i64>,
);

fn spec_columns(spec: &Spec) -> SpecColumns<'_> {
    match spec {
        Spec::Cron(expression) => (Some(expression), None, None, None, None),
        Spec::At(at) => (None, Some(*at), None, None, None),
        Spec::Every { text, secs, anchor } => (None, None, Some(text), Some(*secs), Some(*anchor)),
    }
}

impl Store {
    /// Opens (creating if needed, mode 0600) and migrates the store at `path`. A file nanopy
    /// refuses (not a database, the Python tool's APScheduler store, a newer schema) is
    /// recognised by reading alone, and left byte for byte as it was.
    pub fn open(path: &Path) -> Result<Store> {
        Ok(Store {
            db: Database::open(path, &SCHEMA)?,
        })
    }

    /// Folds the write-ahead log into the database file, for the daemon now and then:
    /// short-lived commands leave that to it (see `prepare`).
    pub fn checkpoint(&self) -> Result<()> {
        self.db
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(Error::store(&self.db.path))
    }

    /// The file behind the store.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.db.path
    }

    /// Adds a job, or replaces the one of the same name when `replace` is set (its history
    /// stays).
    pub fn add(&mut self, job: &JobDef, next_fire: i64, replace: bool, now: i64) -> Result<Job> {
        let path = self.db.path.clone();
        let tx = self
            .db
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::store(&path))?;
        let exists: bool = tx
            .query_row(
                "SELECT 1 FROM jobs WHERE name = ?1",
                [&job.name],
                |_| Ok(()),
            )
            .optional()
            .map_err(Error::store(&path))?
            .is_some();
        if exists && !replace {
            return Err(Error::Input(format!(
                "a job named `{}` exists already; pass --replace to overwrite it, or change it \
                 with `nanopy cron-edit`",
                job.name
            )));
        }
        tx.execute("DELETE FROM jobs WHERE name = ?1", [&job.name])
            .map_err(Error::store(&path))?;
        write_job(&tx, None, job, true, Some(next_fire), now).map_err(Error::store(&path))?;
        tx.commit().map_err(Error::store(&path))?;
        self.job(&job.name)?
            .ok_or_else(|| Error::Failed("the job vanished right after being added".into()))
    }

    /// Changes the job called `name` in one write transaction: `change` gets the stored job
    /// and sets its new definition and next fire. A scheduler's claim of the old next fire
    /// fails from then on, so the old schedule never fires after the edit.
    pub fn edit(
        &mut self,
        name: &str,
        now: i64,
        change: impl FnOnce(&mut Job) -> Result<()>,
    ) -> Result<Job> {
        let path = self.db.path.clone();
        let tx = self
            .db
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::store(&path))?;
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE name = ?1");
        let mut job = tx
            .query_row(&sql, [name], job_from_row)
            .optional()
            .map_err(Error::store(&path))?
            .ok_or_else(|| Error::UnknownJob(name.to_string()))?;
        change(&mut job)?;
        write_job(&tx, Some(job.id), &job.def, job.enabled, job.next_fire, now)
            .map_err(Error::store(&path))?;
        tx.commit().map_err(Error::store(&path))?;
        Ok(job)
    }

    /// Every job, by name.
    pub fn jobs(&self) -> Result<Vec<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY name");
        self.query_jobs(&sql, [])
    }

    /// The job called `name`.
    pub fn job(&self, name: &str) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE name = ?1");
        Ok(self.query_jobs(&sql, [name])?.into_iter().next())
    }

    /// Enabled jobs whose next fire is at or before `now`.
    pub fn due(&self, now: i64) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE enabled = 1 AND next_fire <= ?1 ORDER BY next_fire"
        );
        self.query_jobs(&sql, [now])
    }

    /// The earliest next fire among enabled jobs.
    pub fn earliest_fire(&self) -> Result<Option<i64>> {
        self.db
            .conn
            .prepare_cached("SELECT min(next_fire) FROM jobs WHERE enabled = 1")
            .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
            .map_err(Error::store(&self.db.path))
    }

    /// A number that changes whenever another connection commits a change, so the daemon
    /// can notice other processes' edits without re-reading the jobs.
    pub fn data_version(&self) -> Result<i64> {
        self.db
            .conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
            .map_err(Error::store(&self.db.path))
    }

    /// Removes a job and its history; returns whether it existed.
    pub fn remove(&mut self, name: &str) -> Result<bool> {
        let path = self.db.path.clone();
        let tx = self.db.conn.transaction().map_err(Error::store(&path))?;
        let removed = tx
            .execute("DELETE FROM jobs WHERE name = ?1", [name])
            .map_err(Error::store(&path))?;
        tx.execute("DELETE FROM runs WHERE job = ?1", [name])
            .map_err(Error::store(&path))?;
        tx.commit().map_err(Error::store(&path))?;
        Ok(removed > 0)
    }

    /// Enables (with its next fire) or disables a job; returns whether it existed.
    pub fn set_enabled(&mut self, name: &str, next_fire: Option<i64>, now: i64) -> Result<bool> {
        let changed = self
            .db
            .conn
            .execute(
                "UPDATE jobs SET enabled = ?2, next_fire = ?3, updated_at = ?4 WHERE name = ?1",
                params![name, next_fire.is_some(), next_fire, now],
            )
            .map_err(Error::store(&self.db.path))?;
        Ok(changed > 0)
    }

    /// Claims the fire due at `job.next_fire` for this process: moves the job on as `claim`
    /// says only if no one else has (compare-and-set in a write transaction), and records a
    /// run for `claim.scheduled` with `claim.status`. Returns the run's id, or `None` if
    /// another scheduler claimed the fire first (or the job was edited or disabled since it
    /// was read).
    pub fn claim(&mut self, job: &Job, claim: Claim, now: i64) -> Result<Option<i64>> {
        let path = self.db.path.clone();
        let tx = self
            .db
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::store(&path))?;
        let claimed = tx
            .execute(
                "UPDATE jobs SET next_fire = ?3, enabled = ?4, updated_at = ?5
                 WHERE id = ?1 AND enabled = 1 AND next_fire IS ?2",
                params![job.id, job.next_fire, claim.next_fire, claim.enabled, now],
            )
            .map_err(Error::store(&path))?;
        if claimed == 0 {
            return Ok(None);
        }
        let run = insert_run(&tx, &job.def.name, Some(claim.scheduled), claim.status, now)
            .map_err(Error::store(&path))?;
        tx.commit().map_err(Error::store(&path))?;
        Ok(Some(run))
    }

    /// Records a run that is not a scheduled fire (`cron-fire`), started now.
    pub fn start_manual_run(&mut self, job: &str, now: i64) -> Result<i64> {
        insert_run(&self.db.conn, job, None, RunStatus::Running, now)
            .map_err(Error::store(&self.db.path))
    }

    /// Records how a run ended.
    pub fn finish_run(
        &mut self,
        run: i64,
        status: RunStatus,
        output: Option<&str>,
        error: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.finish_run_delivering(run, status, output, error, now, &[])
            .map(|_| ())
    }

    /// Records how a run ended and, in the same transaction, its deliveries (SPEC §12): each
    /// is claimed by this process for sending at once (state `sending`, see
    /// [`CLAIM_SECS`]), or `held` until quiet hours end. Returns the claimed ones.
    pub fn finish_run_delivering(
        &mut self,
        run: i64,
        status: RunStatus,
        output: Option<&str>,
        error: Option<&str>,
        now: i64,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<Delivery>> {
        let path = self.db.path.clone();
        let sql = |error| Error::store(&path)(error);
        let tx = self
            .db
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let output = output.map(|text| truncate::to_bytes(text.to_string(), MAX_STORED_TEXT));
        let error = error.map(|text| truncate::to_bytes(text.to_string(), MAX_STORED_TEXT));
        tx.execute(
            "UPDATE runs SET status = ?2, output = ?3, error = ?4, finished_at = ?5 WHERE id = ?1",
            params![run, status, output, error, now],
        )
        .map_err(sql)?;
        set_last_status(&tx, run, status).map_err(sql)?;
        let mut claimed = Vec::new();
        for delivery in deliveries {
            let (state, next_attempt, claimed_until) = match delivery.held_until {
                Some(until) => ("held", until, None),
                None => ("sending", now, Some(now + CLAIM_SECS)),
            };
            let text = output.as_deref().or(error.as_deref()).unwrap_or("");
            let text = delivery.text.as_deref().unwrap_or(text);
            tx.execute(
                "INSERT INTO deliveries (run, job, target, command, status, scheduled_at,
                                         started_at, text, state, next_attempt, created_at,
                                         claimed_until)
                 SELECT id, job, ?2, ?3, ?4, scheduled_at, started_at, ?5, ?6, ?7, ?8, ?9
                 FROM runs WHERE id = ?1",
                params![
                    run,
                    delivery.target,
                    delivery.command,
                    status,
                    text,
                    state,
                    next_attempt,
                    now,
                    claimed_until
                ],
            )
            .map_err(sql)?;
            if delivery.held_until.is_none() {
                claimed.push(tx.last_insert_rowid());
            }
        }
        let claimed =
            deliveries_where(&tx, &format!("id IN ({})", id_list(&claimed)), []).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(claimed)
    }

    /// Claims every delivery that is due (pending or held past its time, or `sending` under
    /// a claim that expired: its sender was killed), in one transaction, so that two
    /// schedulers never send one delivery twice.
    pub fn claim_due_deliveries(&mut self, now: i64) -> Result<Vec<Delivery>> {
        let path = self.db.path.clone();
        let sql = |error| Error::store(&path)(error);
        // A cheap look first: most wake-ups have nothing to send and write nothing.
        let due: i64 = self
            .db
            .conn
            .prepare_cached(DUE_COUNT)
            .and_then(|mut statement| statement.query_row([now], |row| row.get(0)))
            .map_err(sql)?;
        if due == 0 {
            return Ok(Vec::new());
        }
        let tx = self
            .db
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let due = deliveries_where(&tx, DUE, params![now]).map_err(sql)?;
        tx.execute(
            &format!("UPDATE deliveries SET state = 'sending', claimed_until = ?2 WHERE {DUE}"),
            params![now, now + CLAIM_SECS],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(due)
    }

    /// When a scheduler last noted the time (`cron-run`, `serve`, `cron-run --once`).
    pub fn last_seen(&self) -> Result<Option<i64>> {
        self.db
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'last_seen'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(Error::store(&self.db.path))
    }

    /// When the oldest enabled job with a next fire was added.
    pub fn oldest_waiting_job(&self) -> Result<Option<i64>> {
        self.db
            .conn
            .query_row(
                "SELECT min(created_at) FROM jobs WHERE enabled = 1 AND next_fire IS NOT NULL",
                [],
                |row| row.get(0),
            )
            .map_err(Error::store(&self.db.path))
    }

    /// Records what became of a claimed delivery.
    pub fn record_delivery(&mut self, id: i64, outcome: &DeliveryOutcome) -> Result<()> {
        let (state, next_attempt, error, attempted) = match outcome {
            DeliveryOutcome::Sent => ("sent", None, None, 1),
            DeliveryOutcome::Retry { at, error } => ("pending", Some(*at), Some(error.as_str()), 1),
            DeliveryOutcome::Failed { error } => ("failed", None, Some(error.as_str()), 1),
            DeliveryOutcome::Held { until } => ("held", Some(*until), None, 0),
        };
        self.db
            .conn
            .execute(
                "UPDATE deliveries SET state = ?2, attempts = attempts + ?3,
                        next_attempt = coalesce(?4, next_attempt),
                        last_error = coalesce(?5, last_error), claimed_until = NULL
                 WHERE id = ?1",
                params![id, state, attempted, next_attempt, error],
            )
            .map(|_| ())
            .map_err(Error::store(&self.db.path))
    }

    /// The deliveries of these runs, oldest first.
    pub fn deliveries_of(&self, runs: &[i64]) -> Result<Vec<Delivery>> {
        deliveries_where(&self.db.conn, &format!("run IN ({})", id_list(runs)), [])
            .map_err(Error::store(&self.db.path))
    }

    /// Notes which provider answered the run.
    pub fn set_run_provider(&mut self, run: i64, provider: &str) -> Result<()> {
        self.db
            .conn
            .execute(
                "UPDATE runs SET provider = ?2 WHERE id = ?1",
                params![run, provider],
            )
            .map(|_| ())
            .map_err(Error::store(&self.db.path))
    }

    /// Records a run that ends as it starts (`missed`, `skipped`), with a note.
    #[cfg(test)]
    pub fn record_instant_run(
        &mut self,
        job: &str,
        scheduled_at: Option<i64>,
        status: RunStatus,
        note: &str,
        now: i64,
    ) -> Result<()> {
        let run = insert_run(&self.db.conn, job, scheduled_at, status, now)
            .map_err(Error::store(&self.db.path))?;
        self.finish_run(run, status, None, Some(note), now)
    }

    /// Marks runs left `running` by processes that no longer exist as `interrupted`, with the
    /// deliveries `deliveries` says such a run of its job makes; returns how many.
    pub fn mark_interrupted(
        &mut self,
        is_alive: &dyn Fn(&str) -> bool,
        now: i64,
        deliveries: &dyn Fn(&Job) -> Vec<NewDelivery>,
    ) -> Result<usize> {
        let path = self.db.path.clone();
        let stale: Vec<(i64, Option<String>, String)> = {
            let mut statement = self
                .db
                .conn
                .prepare("SELECT id, owner, job FROM runs WHERE status = ?1")
                .map_err(Error::store(&path))?;
            statement
                .query_map([RunStatus::Running], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .map_err(Error::store(&path))?
                .collect::<rusqlite::Result<_>>()
                .map_err(Error::store(&path))?
        };
        let mut count = 0;
        for (run, owner, job) in stale {
            if owner.as_deref().is_some_and(is_alive) {
                continue;
            }
            // Its deliveries are due at once, for whichever scheduler sends next.
            // A job removed since has no targets left to tell.
            let made = self
                .job(&job)?
                .map_or_else(Vec::new, |job| deliveries(&job));
            let due: Vec<NewDelivery> = made
                .into_iter()
                .map(|delivery| NewDelivery {
                    held_until: Some(delivery.held_until.unwrap_or(now)),
                    ..delivery
                })
                .collect();
            self.finish_run_delivering(
                run,
                RunStatus::Interrupted,
                None,
                Some("the scheduler stopped before the run finished"),
                now,
                &due,
            )?;
            count += 1;
        }
        Ok(count)
    }

    /// Records that a scheduler saw the wall clock at `now`, and returns how far it has moved
    /// back since the last time a scheduler noted it (0 when it has not).
    pub fn note_clock(&mut self, now: i64) -> Result<i64> {
        let path = self.db.path.clone();
        // Not synced to disk (SPEC §12): an SD card is not worn for a note of the time, and a
        // power cut that loses it loses nothing a scheduler needs.
        self.db
            .conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(Error::store(&path))?;
        let noted = self.write_clock_note(now);
        self.db
            .conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(Error::store(&path))?;
        noted
    }

    fn write_clock_note(&mut self, now: i64) -> Result<i64> {
        let path = self.db.path.clone();
        let tx = self
            .db
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::store(&path))?;
        let last_seen: Option<i64> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'last_seen'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(Error::store(&path))?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('last_seen', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [now],
        )
        .map_err(Error::store(&path))?;
        tx.commit().map_err(Error::store(&path))?;
        Ok(last_seen.map_or(0, |last| (last - now).max(0)))
    }

    /// Moves a job's next fire if no one else has moved it since `job` was read.
    pub fn reschedule(&mut self, job: &Job, next_fire: Option<i64>, now: i64) -> Result<bool> {
        let changed = self
            .db
            .conn
            .execute(
                "UPDATE jobs SET next_fire = ?3, updated_at = ?4
                 WHERE id = ?1 AND enabled = 1 AND next_fire IS ?2",
                params![job.id, job.next_fire, next_fire, now],
            )
            .map_err(Error::store(&self.db.path))?;
        Ok(changed > 0)
    }

    /// Whether a run of `job` is still going in some process (a `running` row whose process is
    /// alive), so that a second scheduler does not start the job beside it.
    pub fn is_running(&self, job: &str, is_alive: &dyn Fn(&str) -> bool) -> Result<bool> {
        let mut statement = self
            .db
            .conn
            .prepare_cached("SELECT owner FROM runs WHERE job = ?1 AND status = ?2")
            .map_err(Error::store(&self.db.path))?;
        let owners = statement
            .query_map(params![job, RunStatus::Running], |row| {
                row.get::<_, Option<String>>(0)
            })
            .map_err(Error::store(&self.db.path))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Error::store(&self.db.path))?;
        Ok(owners.iter().flatten().any(|owner| is_alive(owner)))
    }

    /// Past runs, newest first, of one job or all.
    pub fn runs(&self, job: Option<&str>, limit: i64) -> Result<Vec<Run>> {
        let mut statement = self
            .db
            .conn
            .prepare(
                "SELECT id, job, scheduled_at, started_at, finished_at, status, output, error,
                        provider
                 FROM runs WHERE ?1 IS NULL OR job = ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(Error::store(&self.db.path))?;
        statement
            .query_map(params![job, limit], |row| {
                Ok(Run {
                    id: row.get(0)?,
                    job: row.get(1)?,
                    scheduled_at: row.get(2)?,
                    started_at: row.get(3)?,
                    finished_at: row.get(4)?,
                    status: row.get(5)?,
                    output: row.get(6)?,
                    error: row.get(7)?,
                    provider: row.get(8)?,
                })
            })
            .map_err(Error::store(&self.db.path))?
            .collect::<rusqlite::Result<_>>()
            .map_err(Error::store(&self.db.path))
    }

    fn query_jobs<P: rusqlite::Params>(&self, sql: &str, params: P) -> Result<Vec<Job>> {
        let mut statement = self
            .db
            .conn
            .prepare(sql)
            .map_err(Error::store(&self.db.path))?;
        statement
            .query_map(params, job_from_row)
            .map_err(Error::store(&self.db.path))?
            .collect::<rusqlite::Result<_>>()
            .map_err(Error::store(&self.db.path))
    }
}

/// Inserts (`id` None) or overwrites (`id` Some) one job row.
fn write_job(
    conn: &Connection,
    id: Option<i64>,
    job: &JobDef,
    enabled: bool,
    next_fire: Option<i64>,
    now: i64,
) -> rusqlite::Result<usize> {
    let (cron, at, every, every_secs, anchor) = spec_columns(&job.spec);
    conn.execute(
        "INSERT INTO jobs (id, name, message, cron, at, every, every_secs, anchor, tz, enabled,
                           grace_secs, notify, model, provider, session, tools, next_fire,
                           created_at, updated_at, targets, notify_on, check_cmd, quiet, files)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?18, ?19, ?20, ?21, ?22, ?23)
         ON CONFLICT (id) DO UPDATE SET
            name = excluded.name, message = excluded.message, cron = excluded.cron,
            at = excluded.at, every = excluded.every, every_secs = excluded.every_secs,
            anchor = excluded.anchor, tz = excluded.tz, enabled = excluded.enabled,
            grace_secs = excluded.grace_secs, notify = excluded.notify, model = excluded.model,
            provider = excluded.provider, session = excluded.session, tools = excluded.tools,
            next_fire = excluded.next_fire, updated_at = excluded.updated_at,
            targets = excluded.targets, notify_on = excluded.notify_on,
            check_cmd = excluded.check_cmd, quiet = excluded.quiet, files = excluded.files",
        params![
            id,
            job.name,
            job.message,
            cron,
            at,
            every,
            every_secs,
            anchor,
            job.tz,
            enabled,
            job.grace_secs,
            job.notify,
            job.model,
            job.provider,
            job.session,
            job.tools,
            next_fire,
            now,
            (!job.reporting.to.is_empty())
                .then(|| serde_json::to_string(&job.reporting.to).expect("names serialise")),
            job.reporting
                .notify_on
                .is_some()
                .then(|| job.reporting.notify_on_text()),
            job.reporting.check,
            job.reporting.quiet,
            (!job.files.is_empty())
                .then(|| serde_json::to_string(&job.files).expect("paths serialise")),
        ],
    )
}

fn insert_run(
    conn: &Connection,
    job: &str,
    scheduled_at: Option<i64>,
    status: RunStatus,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO runs (job, scheduled_at, started_at, status, owner) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![job, scheduled_at, now, status, super::owner::current()],
    )?;
    let run = conn.last_insert_rowid();
    // Keep the newest runs per job; the index makes this a short range delete.
    conn.execute(
        "DELETE FROM runs WHERE job = ?1 AND id <= (
             SELECT id FROM runs WHERE job = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        params![job, MAX_RUNS_PER_JOB],
    )?;
    Ok(run)
}

fn set_last_status(conn: &Connection, run: i64, status: RunStatus) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE jobs SET last_status = ?2 WHERE name = (SELECT job FROM runs WHERE id = ?1)",
        params![run, status],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(name: &str) -> Store {
        Store::open(&crate::test_support::scratch_dir(name).join("jobs.sqlite")).unwrap()
    }

    fn new_job(name: &str) -> JobDef {
        JobDef {
            name: name.into(),
            message: "hello".into(),
            spec: Spec::Cron("* * * * *".into()),
            tz: "UTC".into(),
            grace_secs: 600,
            notify: None,
            model: None,
            provider: None,
            session: None,
            tools: true,
            reporting: Default::default(),
            files: Vec::new(),
        }
    }

    /// The claim of the fire at 100, moving the job on to 160.
    const RUN_AT_100: Claim = Claim {
        scheduled: 100,
        next_fire: Some(160),
        enabled: true,
        status: RunStatus::Running,
    };

    #[test]
    fn the_write_ahead_log_stays_short_when_every_command_is_short_lived() {
        let path = crate::test_support::scratch_dir("store-wal").join("jobs.sqlite");
        for n in 0..400 {
            let mut store = Store::open(&path).unwrap();
            store.add(&new_job("a"), 100 + n, true, n).unwrap();
        }
        let wal = std::fs::metadata(crate::wal::wal_path(&path))
            .unwrap()
            .len();
        assert!(
            wal <= crate::wal::MAX_WAL_BYTES + 16 * 4096,
            "WAL is {wal} bytes"
        );
        let store = Store::open(&path).unwrap();
        assert_eq!(store.job("a").unwrap().unwrap().next_fire, Some(499));
    }

    #[test]
    fn a_fire_can_be_claimed_only_once() {
        let mut first = store("claim");
        let job = first.add(&new_job("a"), 100, false, 0).unwrap();
        let mut second = Store::open(first.path()).unwrap();
        assert!(first.claim(&job, RUN_AT_100, 100).unwrap().is_some());
        assert!(second.claim(&job, RUN_AT_100, 100).unwrap().is_none());
        assert_eq!(second.job("a").unwrap().unwrap().next_fire, Some(160));
    }

    #[test]
    fn every_run_status_survives_the_store() {
        let mut store = store("status");
        store.add(&new_job("a"), 100, false, 0).unwrap();
        for status in RunStatus::ALL {
            store.record_instant_run("a", None, status, "n", 1).unwrap();
            assert_eq!(store.runs(Some("a"), 1).unwrap()[0].status, status);
        }
        store
            .db
            .conn
            .execute("UPDATE runs SET status = 'exploded'", [])
            .unwrap();
        let error = store.runs(Some("a"), 1).unwrap_err().to_string();
        assert!(error.contains("unknown run status `exploded`"), "{error}");
    }

    #[test]
    fn duplicate_name_needs_replace() {
        let mut store = store("dup");
        store.add(&new_job("a"), 100, false, 0).unwrap();
        assert_eq!(
            store
                .add(&new_job("a"), 100, false, 0)
                .unwrap_err()
                .exit_code(),
            2
        );
        let mut changed = new_job("a");
        changed.message = "new".into();
        assert_eq!(
            store.add(&changed, 200, true, 0).unwrap().def.message,
            "new"
        );
        assert_eq!(store.jobs().unwrap().len(), 1);
    }

    #[test]
    fn history_is_capped_per_job() {
        let mut store = store("cap");
        store.add(&new_job("a"), 100, false, 0).unwrap();
        for n in 0..(MAX_RUNS_PER_JOB + 5) {
            store
                .record_instant_run("a", Some(n), RunStatus::Missed, "late", n)
                .unwrap();
        }
        let runs = store.runs(Some("a"), 1000).unwrap();
        assert_eq!(runs.len() as i64, MAX_RUNS_PER_JOB);
        assert_eq!(runs[0].scheduled_at, Some(MAX_RUNS_PER_JOB + 4));
        assert_eq!(
            store.job("a").unwrap().unwrap().last_status,
            Some(RunStatus::Missed)
        );
    }

    #[test]
    fn stored_output_is_capped() {
        let mut store = store("output-cap");
        let job = store.add(&new_job("a"), 100, false, 0).unwrap();
        let run = store.claim(&job, RUN_AT_100, 100).unwrap().unwrap();
        let long = "y".repeat(MAX_STORED_TEXT * 4);
        store
            .finish_run(run, RunStatus::Ok, Some(&long), None, 101)
            .unwrap();
        let output = store.runs(Some("a"), 1).unwrap()[0].output.clone().unwrap();
        assert!(output.len() < MAX_STORED_TEXT + 100, "{}", output.len());
        assert!(output.ends_with("bytes in all]"));
    }

    #[test]
    fn runs_of_dead_processes_become_interrupted() {
        let mut store = store("interrupted");
        let job = store.add(&new_job("a"), 100, false, 0).unwrap();
        store.claim(&job, RUN_AT_100, 100).unwrap().unwrap();
        assert_eq!(
            store
                .mark_interrupted(&|_| true, 101, &|_| Vec::new())
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .mark_interrupted(&|_| false, 101, &|_| Vec::new())
                .unwrap(),
            1
        );
        assert_eq!(
            store.runs(None, 10).unwrap()[0].status,
            RunStatus::Interrupted
        );
    }

    #[test]
    fn schema_is_versioned_and_a_newer_one_is_refused() {
        let store = store("version");
        let version: i64 = store
            .db
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let mode: String = store
            .db
            .conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        store
            .db
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let error = Store::open(store.path()).err().unwrap().to_string();
        assert!(error.contains("newer than this nanopy"), "{error}");
    }

    /// Opens `path`, which must be refused, and checks that not one byte changed.
    fn refused_untouched(path: &Path, expect: &str) {
        let before = std::fs::read(path).unwrap();
        let error = Store::open(path).err().unwrap();
        assert!(error.to_string().contains(expect), "{error}");
        assert_eq!(error.exit_code(), 3);
        assert_eq!(std::fs::read(path).unwrap(), before, "{}", path.display());
        let dir = path.parent().unwrap();
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            1,
            "a journal was left"
        );
    }

    #[test]
    fn refused_stores_are_left_byte_for_byte() {
        let dir = crate::test_support::scratch_dir("refused-aps");
        let aps = dir.join("jobs.sqlite");
        let db = Connection::open(&aps).unwrap();
        db.execute_batch(
            "CREATE TABLE apscheduler_jobs (id TEXT, next_run_time REAL, job_state BLOB);
             INSERT INTO apscheduler_jobs VALUES ('a', 1.0, x'00');",
        )
        .unwrap();
        drop(db);
        refused_untouched(&aps, "APScheduler");

        let newer = crate::test_support::scratch_dir("refused-newer").join("jobs.sqlite");
        let db = Connection::open(&newer).unwrap();
        db.execute_batch("CREATE TABLE x (a); PRAGMA user_version = 99;")
            .unwrap();
        drop(db);
        refused_untouched(&newer, "newer than this nanopy");

        let text = crate::test_support::scratch_dir("refused-text").join("jobs.sqlite");
        std::fs::write(
            &text,
            "this is not a database, it is a shopping list\n".repeat(100),
        )
        .unwrap();
        refused_untouched(&text, "not an SQLite database");
    }

    #[test]
    fn a_store_written_by_the_first_release_opens_with_its_jobs_and_history() {
        let path = crate::test_support::scratch_dir("v1").join("jobs.sqlite");
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jobs-v1.sqlite"),
            &path,
        )
        .unwrap();
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .db
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let jobs = store.jobs().unwrap();
        assert_eq!(jobs.len(), 2);
        let digest = &jobs[0];
        assert_eq!(digest.def.name, "daily-digest");
        assert_eq!(digest.def.spec, Spec::Cron("0 7 * * MON-FRI".into()));
        assert_eq!(digest.def.tz, "Asia/Jakarta");
        assert_eq!(digest.def.grace_secs, 300);
        assert_eq!(digest.def.notify.as_deref(), Some("cat > /dev/null"));
        assert_eq!((digest.def.model.clone(), digest.def.tools), (None, true));
        assert!(digest.enabled && digest.next_fire.is_some());
        assert_eq!(digest.last_status, Some(RunStatus::Failed));
        let quarter = &jobs[1];
        assert_eq!(quarter.def.spec, Spec::Cron("*/15 * * * *".into()));
        assert!(!quarter.enabled && quarter.next_fire.is_none());
        let runs = store.runs(Some("daily-digest"), 10).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status, RunStatus::Failed);
        assert!(
            runs[0]
                .error
                .as_deref()
                .unwrap()
                .contains("connection refused")
        );
        // Opening again migrates nothing and writes nothing.
        drop(store);
        assert_eq!(Store::open(&path).unwrap().jobs().unwrap(), jobs);
    }

    #[test]
    fn apscheduler_store_is_refused() {
        let path = crate::test_support::scratch_dir("aps").join("jobs.sqlite");
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE apscheduler_jobs (id TEXT, next_run_time REAL, job_state BLOB)",
            )
            .unwrap();
        let error = Store::open(&path).err().unwrap().to_string();
        assert!(error.contains("APScheduler"), "{error}");
    }
}
