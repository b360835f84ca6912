//! Running jobs: the `cron-run` loop, `--once`, and `cron-fire`. The only scheduler code that
//! reads the wall clock; the decisions it takes are pure functions of "now". What a job does
//! is handed in as [`Work`]: the scheduler knows nothing of agents or providers.

use super::outbox::{self, Attempt};
use super::owner;
use super::store::{Claim, Delivery, Job, NewDelivery, RunStatus, Store};
use crate::atomic_file;
use crate::clock::unix_seconds;
use crate::error::{Error, Result};
use crate::service::{self, SHUTDOWN_WAIT, Service, Stop};
use std::collections::HashSet;
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What running a job means, supplied by the caller: the job's reply, or why it failed; and
/// how its runs are delivered (the scheduler records and retries deliveries, but knows
/// nothing of targets).
pub trait Work: Send + Sync {
    /// Runs `job` once.
    fn run(&self, job: &Job) -> std::result::Result<Output, String>;

    /// A run of `job` is starting (a `ping` target hears of it).
    fn starting(&self, _job: &Job) {}

    /// The deliveries a run of `job` that ended with `status` at `now` makes.
    fn deliveries(&self, _job: &Job, _status: RunStatus, _now: i64) -> Vec<NewDelivery> {
        Vec::new()
    }

    /// Sends one delivery now.
    fn send(&self, _delivery: &Delivery) -> Attempt {
        Attempt::Failed("nothing can be delivered".into())
    }
}

/// A job's reply, and the provider that gave it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    pub text: String,
    pub provider: Option<String>,
    /// Nothing to report: the run is `quiet`.
    pub quiet: bool,
    /// What its deliveries carry instead of `text` (a check's output).
    pub delivered: Option<String>,
}

impl From<String> for Output {
    fn from(text: String) -> Output {
        Output {
            text,
            ..Output::default()
        }
    }
}

impl<F, O> Work for F
where
    F: Fn(&Job) -> std::result::Result<O, String> + Send + Sync,
    O: Into<Output>,
{
    fn run(&self, job: &Job) -> std::result::Result<Output, String> {
        self(job).map(Into::into)
    }
}

/// The longest the loop sleeps before looking at the store again: other processes' changes
/// are noticed within this.
const POLL: Duration = Duration::from_secs(1);
/// How often the daemon folds the job store's write-ahead log into the file; short-lived
/// commands leave that to it.
const CHECKPOINT_EVERY: i64 = 3600;
/// How often a running scheduler notes the time in the store (SPEC §12: at most every five
/// minutes, so `cron-list` and `doctor` can tell a scheduler runs).
const NOTE_EVERY: i64 = 300;
/// How long the daemon waits after a store error before trying again.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(5);
/// A wall clock that moved back by more than this (an NTP correction of a clock that ran in
/// the future, a Pi booting without a real-time clock) has next fires computed from a time
/// that never came; they are recomputed from now, as Vixie cron does.
const CLOCK_BACK_TOLERANCE: i64 = 60;

/// What to do with a fire that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirePlan {
    /// Run it; it is on time or late by no more than the grace.
    Run,
    /// Record it as `missed`: it is later than the grace.
    Missed,
    /// Record it as `skipped`: the previous run of the job is still going.
    Skipped,
}

/// Decides what a due fire becomes. Pure: the clock is an argument.
pub fn plan_fire(scheduled: i64, grace_secs: i64, now: i64, still_running: bool) -> FirePlan {
    if now - scheduled > grace_secs {
        FirePlan::Missed
    } else if still_running {
        FirePlan::Skipped
    } else {
        FirePlan::Run
    }
}

/// What a due fire of `job` becomes, and how it leaves the job. The fire that counts is the
/// latest one at or before `now` (earlier missed ones coalesce into it); it runs if it is
/// within the job's grace, else it is `missed`; either way the job moves on to its next fire
/// after `now`, and a one-shot job is done. Pure: the clock is an argument. An error means
/// the job's schedule no longer loads.
pub fn plan(job: &Job, now: i64, still_running: bool) -> Result<Claim> {
    let def = &job.def;
    let due = job.next_fire.unwrap_or(now);
    let scheduled = def.spec.latest_fire(&def.tz, due, now)?;
    let next_fire = def.spec.next_after(&def.tz, now)?;
    let status = match plan_fire(scheduled, def.grace_secs, now, still_running) {
        FirePlan::Run => RunStatus::Running,
        FirePlan::Missed => RunStatus::Missed,
        FirePlan::Skipped => RunStatus::Skipped,
    };
    Ok(Claim {
        scheduled,
        next_fire,
        enabled: next_fire.is_some() || !def.spec.is_one_shot(),
        status,
    })
}

/// The scheduler state shared by the loop and its workers.
struct Scheduler {
    store_path: PathBuf,
    work: Arc<dyn Work>,
    store: Store,
    running: Arc<Mutex<HashSet<String>>>,
    /// Each started run's id and the thread running it.
    workers: Vec<(i64, Job, JoinHandle<bool>)>,
}

/// `cron-run`: fires jobs until SIGINT or SIGTERM, then lets running jobs finish (bounded by
/// [`SHUTDOWN_WAIT`]; a second signal exits at once). A second daemon on the store is refused.
pub fn run_daemon(store_path: &Path, work: Arc<dyn Work>) -> Result<()> {
    // Signals first: a SIGTERM while the daemon starts (systemd stopping a unit it just
    // started) asks for a clean stop instead of killing it by the default action.
    let stop = Stop::on_signals()?;
    let daemon = Daemon::start(store_path, work)?;
    service::run(vec![Box::new(daemon)], &stop, SHUTDOWN_WAIT)
}

/// The scheduler as a long-running service: it holds the store's daemon lock, wakes at each
/// fire (and at least every [`POLL`]), and on shutdown waits for running jobs.
pub struct Daemon {
    scheduler: Scheduler,
    watch: Watch,
    _lock: DaemonLock,
}

impl Daemon {
    /// Takes the store's daemon lock (a second daemon is refused, exit 3), marks runs a kill
    /// cut short as `interrupted`, and checks the clock.
    pub fn start(store_path: &Path, work: Arc<dyn Work>) -> Result<Daemon> {
        let lock = DaemonLock::acquire(store_path)?;
        let scheduler = Scheduler::open(store_path, work)?;
        let now = unix_seconds(SystemTime::now());
        crate::notice::note(&started_line(store_path, &scheduler.store.jobs()?));
        Ok(Daemon {
            scheduler,
            watch: Watch {
                seen_version: None,
                earliest: None,
                last_now: now,
                last_noted: now,
                last_checkpoint: now,
            },
            _lock: lock,
        })
    }
}

impl Service for Daemon {
    fn wake(&mut self) -> Result<Duration> {
        let pause = match self.scheduler.tick(&mut self.watch, SystemTime::now()) {
            // From the clock after the work: the wake-up lands on the fire's second, not
            // late by however long this tick took.
            Ok(()) => sleep_until(self.watch.earliest, SystemTime::now()),
            // A store that is busy or briefly unwritable must not end a daemon meant to run
            // for months: say so, and try again.
            Err(error) => {
                crate::notice::warning(&format!(
                    "{error}; retrying in {}s",
                    RETRY_AFTER_ERROR.as_secs()
                ));
                self.watch.seen_version = None;
                RETRY_AFTER_ERROR
            }
        };
        self.scheduler.reap_finished();
        Ok(pause)
    }

    fn shut_down(self: Box<Self>, wait: Duration) -> Result<()> {
        self.scheduler.shut_down(wait)
    }
}

/// The line a starting daemon says: its store, its jobs and the next fire.
fn started_line(store_path: &Path, jobs: &[Job]) -> String {
    let enabled: Vec<&Job> = jobs.iter().filter(|job| job.enabled).collect();
    let next = enabled
        .iter()
        .filter_map(|job| Some((job.next_fire?, job)))
        .min_by_key(|(fire, _)| *fire)
        .map_or_else(
            || "nothing scheduled".to_string(),
            |(fire, job)| {
                format!(
                    "next fire {} (`{}`)",
                    crate::zone::time_in_zone(Some(fire), &job.def.tz).unwrap_or_default(),
                    job.def.name
                )
            },
        );
    format!(
        "scheduler started on `{}`: {} job{}, {} enabled; {next}",
        store_path.display(),
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" },
        enabled.len()
    )
}

/// What the daemon loop remembers between wake-ups.
struct Watch {
    /// The store's data version when the jobs were last looked at.
    seen_version: Option<i64>,
    /// The earliest next fire among enabled jobs, as of `seen_version`.
    earliest: Option<i64>,
    /// The wall clock at the last clock check.
    last_now: i64,
    /// The wall clock when this daemon last noted the time in the store.
    last_noted: i64,
    /// The wall clock at the last checkpoint of the store's write-ahead log.
    last_checkpoint: i64,
}

/// `cron-run --once`: fires what is due now, waits for those runs, and says whether all
/// of them succeeded.
pub fn run_once(store_path: &Path, work: Arc<dyn Work>) -> Result<bool> {
    let mut scheduler = Scheduler::open(store_path, work)?;
    scheduler.fire_due(unix_seconds(SystemTime::now()))?;
    let all_ok = scheduler.join_all();
    // What earlier runs left to retry, or quiet hours held, goes out now too.
    outbox::send_due(
        &mut scheduler.store,
        scheduler.work.as_ref(),
        unix_seconds(SystemTime::now()),
    )?;
    Ok(all_ok)
}

/// `cron-fire NAME`: runs one job now, in the foreground, recorded in its history; says
/// whether the run succeeded.
pub fn fire_now(store_path: &Path, name: &str, work: &dyn Work) -> Result<bool> {
    let mut store = Store::open(store_path)?;
    let job = store
        .job(name)?
        .ok_or_else(|| Error::UnknownJob(name.to_string()))?;
    let run = store.start_manual_run(&job.def.name, unix_seconds(SystemTime::now()))?;
    // A manual run is never skipped; ok and quiet runs succeed, failed ones do not.
    Ok(execute(work, &mut store, &job, run, None))
}

impl Scheduler {
    fn open(store_path: &Path, work: Arc<dyn Work>) -> Result<Scheduler> {
        let mut store = Store::open(store_path)?;
        let now = unix_seconds(SystemTime::now());
        // A run cut short still reaches its targets, as `interrupted`.
        let deliveries = |job: &Job| work.deliveries(job, RunStatus::Interrupted, now);
        let interrupted = store.mark_interrupted(&owner::is_alive, now, &deliveries)?;
        if interrupted > 0 {
            crate::notice::warning(&format!(
                "{interrupted} run(s) were cut short by a stop and are marked `interrupted`"
            ));
        }
        let mut scheduler = Scheduler {
            store_path: store_path.to_path_buf(),
            work,
            store,
            running: Arc::default(),
            workers: Vec::new(),
        };
        let now = unix_seconds(SystemTime::now());
        scheduler.check_clock(now, now, true)?;
        Ok(scheduler)
    }

    /// Notes the wall clock in the store; if it moved back, pulls next fires that lie beyond
    /// the schedule's next fire from now back to it.
    /// `seen_here`: the latest time this process saw; `write`: note the time in the store
    /// (at start, then at most every [`NOTE_EVERY`], SPEC §12), else only read the note.
    fn check_clock(&mut self, now: i64, seen_here: i64, write: bool) -> Result<()> {
        let noted_back = if write {
            self.store.note_clock(now)?
        } else {
            self.store
                .last_seen()?
                .map_or(0, |seen| (seen - now).max(0))
        };
        let moved_back = noted_back.max(seen_here - now);
        if moved_back <= CLOCK_BACK_TOLERANCE {
            return Ok(());
        }
        crate::notice::warning(&format!(
            "the clock moved back by {moved_back}s; recomputing next fires"
        ));
        for job in self.store.jobs()? {
            let (true, Some(stored)) = (job.enabled, job.next_fire) else {
                continue;
            };
            if let Ok(Some(expected)) = job.def.spec.next_after(&job.def.tz, now)
                && stored > expected
            {
                self.store.reschedule(&job, Some(expected), now)?;
            }
        }
        Ok(())
    }

    /// One wake-up of the daemon: notice changes, check the clock, fire what is due.
    fn tick(&mut self, watch: &mut Watch, now: SystemTime) -> Result<()> {
        let version = self.store.data_version()?;
        if watch.seen_version != Some(version) {
            watch.earliest = self.store.earliest_fire()?;
            watch.seen_version = Some(version);
        }
        let now = unix_seconds(now);
        if now < watch.last_now || now >= watch.last_now + 60 {
            // The clock stepped back, or a minute passed: compare notes with the store. The
            // note itself is written at most every five minutes, or when the clock went back.
            let write = now < watch.last_now || now >= watch.last_noted + NOTE_EVERY;
            self.check_clock(now, watch.last_now, write)?;
            if write {
                watch.last_noted = now;
            }
            watch.earliest = self.store.earliest_fire()?;
            watch.last_now = now;
        }
        if now.abs_diff(watch.last_checkpoint) >= CHECKPOINT_EVERY as u64 {
            self.store.checkpoint()?;
            watch.last_checkpoint = now;
        }
        if watch.earliest.is_some_and(|fire| fire <= now) {
            self.fire_due(now)?;
            watch.earliest = self.store.earliest_fire()?;
        }
        // Retries and deliveries held by quiet hours, whichever scheduler made them.
        outbox::send_due(&mut self.store, self.work.as_ref(), now)
    }

    /// Claims and starts every due fire.
    fn fire_due(&mut self, now: i64) -> Result<()> {
        for job in self.store.due(now)? {
            // Ours (a worker thread) or another scheduler's (a live process).
            let still_running = self
                .running
                .lock()
                .expect("no panics hold this lock")
                .contains(&job.def.name)
                || self.store.is_running(&job.def.name, &owner::is_alive)?;
            let claim = match plan(&job, now, still_running) {
                Ok(claim) => claim,
                Err(error) => {
                    self.park_broken_job(&job, &error.to_string(), now)?;
                    continue;
                }
            };
            let Some(run) = self.store.claim(&job, claim, now)? else {
                continue;
            };
            let note = match claim.status {
                RunStatus::Running => {
                    self.start_worker(job, run, claim.scheduled);
                    continue;
                }
                RunStatus::Missed => format!(
                    "missed by {}s, more than the grace of {}s",
                    now - claim.scheduled,
                    job.def.grace_secs
                ),
                _ => {
                    let note = "the previous run was still going";
                    crate::notice::warning(&format!(
                        "job `{}`: fire skipped, {note}",
                        job.def.name
                    ));
                    note.to_string()
                }
            };
            let deliveries = self.work.deliveries(&job, claim.status, now);
            let claimed = self.store.finish_run_delivering(
                run,
                claim.status,
                None,
                Some(&note),
                now,
                &deliveries,
            )?;
            log_line(&job, claim.scheduled, claim.status, Duration::ZERO, &note);
            outbox::send(&mut self.store, self.work.as_ref(), claimed);
        }
        Ok(())
    }

    /// A job whose schedule no longer loads is taken off the schedule, with a failed run
    /// saying why, instead of being retried (and warned about) every second.
    fn park_broken_job(&mut self, job: &Job, error: &str, now: i64) -> Result<()> {
        let claim = Claim {
            scheduled: job.next_fire.unwrap_or(now),
            next_fire: None,
            enabled: true,
            status: RunStatus::Failed,
        };
        if let Some(run) = self.store.claim(job, claim, now)? {
            let note = format!(
                "cannot compute the next fire: {error}; fix it with `nanopy cron-edit {}`",
                job.def.name
            );
            self.store
                .finish_run(run, RunStatus::Failed, None, Some(&note), now)?;
            crate::notice::warning(&format!("job `{}`: {note}", job.def.name));
        }
        Ok(())
    }

    fn start_worker(&mut self, job: Job, run: i64, scheduled: i64) {
        let store_path = self.store_path.clone();
        let work = Arc::clone(&self.work);
        let running = Arc::clone(&self.running);
        running
            .lock()
            .expect("no panics hold this lock")
            .insert(job.def.name.clone());
        self.workers.push((
            run,
            job.clone(),
            thread::spawn(move || {
                let ok = match Store::open(&store_path) {
                    Ok(mut store) => execute(work.as_ref(), &mut store, &job, run, Some(scheduled)),
                    Err(error) => {
                        eprintln!("error: job `{}`: {error}", job.def.name);
                        false
                    }
                };
                running
                    .lock()
                    .expect("no panics hold this lock")
                    .remove(&job.def.name);
                ok
            }),
        ));
    }

    /// Waits for every worker, even after a failure (each must finish and record its run);
    /// says whether all of them succeeded.
    fn join_all(&mut self) -> bool {
        let mut all_ok = true;
        for (_, _, worker) in self.workers.drain(..) {
            all_ok &= worker.join().unwrap_or(false);
        }
        all_ok
    }

    fn reap_finished(&mut self) {
        self.workers.retain(|(_, _, worker)| !worker.is_finished());
    }

    /// Waits up to `wait` for running jobs; those still going are recorded as `interrupted`.
    fn shut_down(mut self, wait: Duration) -> Result<()> {
        self.reap_finished();
        if !self.workers.is_empty() {
            crate::notice::warning(&format!(
                "stopping: waiting up to {}s for {} running job(s)",
                wait.as_secs(),
                self.workers.len()
            ));
        }
        let deadline = Instant::now() + wait;
        while !self.workers.is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
            self.reap_finished();
        }
        let now = unix_seconds(SystemTime::now());
        for (run, job, _) in std::mem::take(&mut self.workers) {
            let note = "the scheduler stopped before the run finished";
            // Its deliveries wait for the next scheduler, due at once: this one is stopping.
            let deliveries: Vec<NewDelivery> = self
                .work
                .deliveries(&job, RunStatus::Interrupted, now)
                .into_iter()
                .map(|delivery| NewDelivery {
                    held_until: Some(delivery.held_until.unwrap_or(now)),
                    ..delivery
                })
                .collect();
            self.store.finish_run_delivering(
                run,
                RunStatus::Interrupted,
                None,
                Some(note),
                now,
                &deliveries,
            )?;
        }
        self.store.checkpoint()
    }
}

/// Runs the job's work, records the outcome with its deliveries, logs it, and sends them.
fn execute(
    work: &dyn Work,
    store: &mut Store,
    job: &Job,
    run: i64,
    scheduled: Option<i64>,
) -> bool {
    let started = Instant::now();
    work.starting(job);
    let outcome = work.run(job);
    let (status, output, error) = match &outcome {
        Ok(reply) if reply.quiet => (RunStatus::Quiet, Some(reply.text.as_str()), None),
        Ok(reply) => (RunStatus::Ok, Some(reply.text.as_str()), None),
        Err(error) => (RunStatus::Failed, None, Some(error.as_str())),
    };
    let now = unix_seconds(SystemTime::now());
    if let Ok(Output {
        provider: Some(provider),
        ..
    }) = &outcome
        && let Err(store_error) = store.set_run_provider(run, provider)
    {
        crate::notice::warning(&format!(
            "job `{}`: cannot record its provider: {store_error}",
            job.def.name
        ));
    }
    let mut deliveries = work.deliveries(job, status, now);
    if let Ok(Output {
        delivered: Some(text),
        ..
    }) = &outcome
    {
        for delivery in &mut deliveries {
            delivery.text = Some(text.clone());
        }
    }
    let claimed = match store.finish_run_delivering(run, status, output, error, now, &deliveries) {
        Ok(claimed) => claimed,
        Err(store_error) => {
            eprintln!(
                "error: job `{}`: cannot record the run: {store_error}",
                job.def.name
            );
            Vec::new()
        }
    };
    let text = output.or(error).unwrap_or_default();
    log_line(
        job,
        scheduled.unwrap_or(now),
        status,
        started.elapsed(),
        text,
    );
    outbox::send(store, work, claimed);
    outcome.is_ok()
}

/// One line per run (time, job, status, duration), then the reply or error.
fn log_line(job: &Job, scheduled: i64, status: RunStatus, took: Duration, text: &str) {
    let time = crate::zone::time_in_zone(Some(scheduled), &job.def.tz).unwrap_or_default();
    let mut entry = format!(
        "{time} job={} status={status} duration={:.2}s\n",
        job.def.name,
        took.as_secs_f64()
    );
    if !text.is_empty() {
        entry.push_str(text.trim_end());
        entry.push('\n');
    }
    // One write per run, so lines of concurrent runs never interleave; a closed stdout
    // must not stop the scheduler.
    let _ = std::io::stdout().lock().write_all(entry.as_bytes());
}

/// How long to sleep: until the earliest fire, but never past one poll interval, so changes
/// by other processes and wall-clock jumps are noticed.
fn sleep_until(earliest: Option<i64>, now: SystemTime) -> Duration {
    let Some(fire) = earliest else {
        return POLL;
    };
    let fire = UNIX_EPOCH + Duration::from_secs(fire.max(0) as u64);
    fire.duration_since(now).unwrap_or(Duration::ZERO).min(POLL)
}

/// The lock that keeps a second daemon off a store: an exclusive lock on a file beside it,
/// holding the pid of the daemon that has it.
struct DaemonLock {
    _file: File,
}

impl DaemonLock {
    fn acquire(store: &Path) -> Result<DaemonLock> {
        let mut name = store.file_name().unwrap_or_default().to_os_string();
        name.push(".daemon.lock");
        let path: PathBuf = store.with_file_name(name);
        let mut file = atomic_file::open_private(&path)
            .map_err(Error::file("open the scheduler lock", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Error::Locked {
                    path: store.to_path_buf(),
                    holder: format!(
                        "a running `nanopy cron-run` (pid {}); stop it first, or use \
                         `cron-run --once` beside it",
                        holder.trim()
                    ),
                });
            }
            Err(TryLockError::Error(error)) => {
                return Err(Error::file("lock the scheduler lock", &path)(error));
            }
        }
        file.set_len(0).map_err(Error::file("write", &path))?;
        file.rewind().map_err(Error::file("write", &path))?;
        write!(file, "{}", std::process::id()).map_err(Error::file("write", &path))?;
        Ok(DaemonLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cron::schedule::Spec;
    use crate::cron::store::JobDef;
    use std::sync::atomic::AtomicUsize;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A minute boundary long ago, so every test fire is "due".
    const FIRE: i64 = 1_700_000_040;

    /// A job called `job`, in UTC, with no extras.
    fn def(spec: Spec, grace_secs: i64) -> JobDef {
        JobDef {
            name: "job".into(),
            message: "say hi".into(),
            spec,
            tz: "UTC".into(),
            grace_secs,
            notify: None,
            model: None,
            provider: None,
            session: None,
            tools: true,
            reporting: Default::default(),
            files: Vec::new(),
        }
    }

    fn store_with_job(name: &str, grace_secs: i64) -> PathBuf {
        let path = crate::test_support::scratch_dir(name).join("jobs.sqlite");
        let job = def(Spec::Cron("* * * * *".into()), grace_secs);
        Store::open(&path)
            .unwrap()
            .add(&job, FIRE, false, 0)
            .unwrap();
        path
    }

    fn counting(
        calls: &Arc<AtomicUsize>,
        reply: std::result::Result<&'static str, &'static str>,
    ) -> Arc<dyn Work> {
        let calls = Arc::clone(calls);
        Arc::new(move |_: &Job| {
            calls.fetch_add(1, Ordering::SeqCst);
            reply.map(str::to_string).map_err(str::to_string)
        })
    }

    fn statuses(path: &Path) -> Vec<RunStatus> {
        let runs = Store::open(path).unwrap().runs(Some("job"), 100).unwrap();
        runs.iter().rev().map(|run| run.status).collect()
    }

    #[test]
    fn a_starting_daemon_names_its_store_jobs_and_next_fire() {
        let job = |name: &str, enabled: bool, next_fire: Option<i64>| Job {
            id: 0,
            def: JobDef {
                name: name.into(),
                ..def(Spec::Cron("0 7 * * *".into()), 600)
            },
            enabled,
            next_fire,
            last_status: None,
        };
        let store = Path::new("/d/jobs.sqlite");
        assert_eq!(
            started_line(
                store,
                &[
                    job("late", true, Some(200)),
                    job("off", false, Some(50)),
                    job("soon", true, Some(100)),
                ]
            ),
            "scheduler started on `/d/jobs.sqlite`: 3 jobs, 2 enabled; next fire \
             1970-01-01T00:01:40+00:00 (`soon`)"
        );
        assert_eq!(
            started_line(store, &[]),
            "scheduler started on `/d/jobs.sqlite`: 0 jobs, 0 enabled; nothing scheduled"
        );
    }

    #[test]
    fn fire_within_grace_runs_and_later_one_is_missed() {
        assert_eq!(plan_fire(1000, 600, 1000, false), FirePlan::Run);
        assert_eq!(plan_fire(1000, 600, 1600, false), FirePlan::Run);
        assert_eq!(plan_fire(1000, 600, 1601, false), FirePlan::Missed);
    }

    #[test]
    fn fire_while_previous_run_goes_is_skipped() {
        assert_eq!(plan_fire(1000, 600, 1000, true), FirePlan::Skipped);
    }

    fn job(spec: Spec, grace_secs: i64, due: i64) -> Job {
        Job {
            id: 1,
            def: def(spec, grace_secs),
            enabled: true,
            next_fire: Some(due),
            last_status: None,
        }
    }

    fn check_plan(job: &Job, now: i64, expected: (i64, RunStatus, Option<i64>, bool)) {
        let claim = plan(job, now, false).unwrap();
        assert_eq!(
            (
                claim.scheduled,
                claim.status,
                claim.next_fire,
                claim.enabled
            ),
            expected,
            "{:?} at {now}",
            job.def.spec
        );
    }

    /// 2026-12-01T10:00:00Z.
    const TEN: i64 = 1_796_119_200;

    #[test]
    fn the_latest_missed_fire_runs_when_it_is_within_grace_though_older_ones_are_not() {
        // Every 5 minutes, down from just before 10:00 until 10:12: the 10:00 fire is 12
        // minutes old, the 10:10 one 2 minutes, well within the 600 s grace.
        let every_five = job(Spec::Cron("*/5 * * * *".into()), 600, TEN);
        check_plan(
            &every_five,
            TEN + 720,
            (TEN + 600, RunStatus::Running, Some(TEN + 900), true),
        );
        // Every 4 s with a grace of 2, left alone for 4.5 s: the newest fire is due.
        let every_four = job(Spec::Cron("*/4 * * * * *".into()), 2, TEN);
        check_plan(
            &every_four,
            TEN + 4,
            (TEN + 4, RunStatus::Running, Some(TEN + 8), true),
        );
    }

    #[test]
    fn when_even_the_latest_fire_is_beyond_grace_one_missed_run_is_recorded() {
        let every_five = job(Spec::Cron("*/5 * * * *".into()), 60, TEN);
        check_plan(
            &every_five,
            TEN + 720,
            (TEN + 600, RunStatus::Missed, Some(TEN + 900), true),
        );
        // A daily job after a two-day outage: one missed, then tomorrow.
        let daily = job(Spec::Cron("0 10 * * *".into()), 600, TEN);
        check_plan(
            &daily,
            TEN + 2 * 86_400 + 3600,
            (
                TEN + 2 * 86_400,
                RunStatus::Missed,
                Some(TEN + 3 * 86_400),
                true,
            ),
        );
    }

    #[test]
    fn a_fire_exactly_grace_old_still_runs() {
        let hourly = job(Spec::Cron("0 * * * *".into()), 600, TEN);
        check_plan(
            &hourly,
            TEN + 600,
            (TEN, RunStatus::Running, Some(TEN + 3600), true),
        );
        check_plan(
            &hourly,
            TEN + 601,
            (TEN, RunStatus::Missed, Some(TEN + 3600), true),
        );
    }

    #[test]
    fn a_one_shot_runs_or_is_missed_once_and_is_then_done() {
        let once = job(Spec::At(TEN), 600, TEN);
        check_plan(&once, TEN + 30, (TEN, RunStatus::Running, None, false));
        check_plan(&once, TEN + 601, (TEN, RunStatus::Missed, None, false));
    }

    #[test]
    fn an_interval_keeps_its_phase_after_downtime() {
        let spec = Spec::Every {
            text: "1h".into(),
            secs: 3600,
            anchor: TEN + 17,
        };
        let hourly = job(spec, 600, TEN + 3617);
        check_plan(
            &hourly,
            TEN + 3 * 3600 + 117,
            (
                TEN + 3 * 3600 + 17,
                RunStatus::Running,
                Some(TEN + 4 * 3600 + 17),
                true,
            ),
        );
    }

    #[test]
    fn a_frequent_job_after_a_long_outage_finds_its_latest_fire_without_stepping_through_it_all() {
        let every_second = job(Spec::Cron("* * * * * *".into()), 600, TEN);
        let now = TEN + 30 * 86_400 + 5;
        check_plan(
            &every_second,
            now,
            (now, RunStatus::Running, Some(now + 1), true),
        );
        let every_minute = job(Spec::Cron("* * * * *".into()), 600, TEN);
        check_plan(
            &every_minute,
            TEN + 10 * 86_400 + 59,
            (
                TEN + 10 * 86_400,
                RunStatus::Running,
                Some(TEN + 10 * 86_400 + 60),
                true,
            ),
        );
    }

    #[test]
    fn a_due_fire_runs_the_work_once_even_with_two_schedulers() {
        let path = store_with_job("runner-once", 600);
        let calls = Arc::new(AtomicUsize::new(0));
        let work = counting(&calls, Ok("hi"));
        let mut first = Scheduler::open(&path, Arc::clone(&work)).unwrap();
        let mut second = Scheduler::open(&path, work).unwrap();
        first.fire_due(FIRE + 5).unwrap();
        second.fire_due(FIRE + 5).unwrap();
        assert!(first.join_all() && second.join_all());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(statuses(&path), [RunStatus::Ok]);
        let job = Store::open(&path).unwrap().job("job").unwrap().unwrap();
        assert_eq!(job.next_fire, Some(FIRE + 60));
        assert_eq!(job.last_status, Some(RunStatus::Ok));
    }

    #[test]
    fn a_fire_older_than_the_grace_is_missed_without_running() {
        let path = store_with_job("runner-missed", 30);
        let calls = Arc::new(AtomicUsize::new(0));
        let mut scheduler = Scheduler::open(&path, counting(&calls, Ok("hi"))).unwrap();
        scheduler.fire_due(FIRE + 31).unwrap();
        assert!(scheduler.join_all());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(statuses(&path), [RunStatus::Missed]);
    }

    #[test]
    fn failing_work_is_a_failed_run_and_the_schedule_goes_on() {
        let path = store_with_job("runner-failed", 600);
        let calls = Arc::new(AtomicUsize::new(0));
        let mut scheduler = Scheduler::open(&path, counting(&calls, Err("boom"))).unwrap();
        scheduler.fire_due(FIRE).unwrap();
        assert!(!scheduler.join_all());
        let store = Store::open(&path).unwrap();
        let run = &store.runs(Some("job"), 1).unwrap()[0];
        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(run.error.as_deref(), Some("boom"));
        assert_eq!(
            store.job("job").unwrap().unwrap().next_fire,
            Some(FIRE + 60)
        );
    }

    /// Work that blocks until `release` is set, so a run can be kept going.
    fn gated(release: &Arc<AtomicBool>) -> Arc<dyn Work> {
        let release = Arc::clone(release);
        Arc::new(move |_: &Job| {
            while !release.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(5));
            }
            Ok("done".to_string())
        })
    }

    #[test]
    fn a_fire_while_the_previous_run_goes_is_skipped() {
        let path = store_with_job("runner-skipped", 600);
        let release = Arc::new(AtomicBool::new(false));
        let mut scheduler = Scheduler::open(&path, gated(&release)).unwrap();
        scheduler.fire_due(FIRE).unwrap();
        scheduler.fire_due(FIRE + 60).unwrap();
        release.store(true, Ordering::SeqCst);
        assert!(scheduler.join_all());
        assert_eq!(statuses(&path), [RunStatus::Ok, RunStatus::Skipped]);
    }

    #[test]
    fn a_run_still_going_at_shutdown_is_interrupted() {
        let path = store_with_job("runner-shutdown", 600);
        let release = Arc::new(AtomicBool::new(false));
        let mut scheduler = Scheduler::open(&path, gated(&release)).unwrap();
        scheduler.fire_due(FIRE).unwrap();
        scheduler.shut_down(Duration::from_millis(100)).unwrap();
        // In a daemon the process ends here; this test's worker stays blocked until then.
        assert_eq!(statuses(&path), [RunStatus::Interrupted]);
    }

    #[test]
    fn sleep_never_exceeds_the_poll_interval() {
        let now = UNIX_EPOCH + Duration::from_secs(100);
        assert_eq!(sleep_until(None, now), POLL);
        assert_eq!(sleep_until(Some(10_000), now), POLL);
        assert_eq!(sleep_until(Some(50), now), Duration::ZERO);
        let almost = UNIX_EPOCH + Duration::from_millis(100_700);
        assert_eq!(sleep_until(Some(101), almost), Duration::from_millis(300));
    }
}
