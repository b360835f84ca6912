//! Running jobs: the `cron-run` loop, `--once`, and `cron-fire`. The only scheduler code that
//! reads the wall clock; the decisions it takes are pure functions of "now".

use super::owner;
use super::schedule::Schedule;
use super::store::{Job, Store};
use crate::agent::{self, TurnOptions};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::tools::Caller;
use jiff::Timestamp;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag as signal_flag;
use std::collections::HashSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The longest the loop sleeps before looking at the store again: other processes' changes
/// are noticed within this.
const POLL: Duration = Duration::from_secs(1);
/// The longest a `--notify` command may run.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopping daemon waits for running jobs before marking them `interrupted`.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);
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

/// The next fire of `job` strictly after `now`; missed fires in between coalesce. An error
/// means the stored schedule no longer loads (its zone vanished from the system, say).
pub fn next_fire_after(job: &Job, now: i64) -> Result<Option<i64>> {
    let now = Timestamp::from_second(now)
        .map_err(|error| Error::Failed(format!("invalid time {now}: {error}")))?;
    let schedule = Schedule::parse(&job.cron, &job.tz, now)?;
    Ok(schedule.next_after(now).map(|next| next.as_second()))
}

/// The scheduler state shared by the loop and its workers.
struct Scheduler {
    config: Config,
    store: Store,
    running: Arc<Mutex<HashSet<String>>>,
    /// Each started run's id and the thread running it.
    workers: Vec<(i64, JoinHandle<bool>)>,
}

/// `cron-run`: fires jobs until SIGINT or SIGTERM, then lets running jobs finish (bounded by
/// [`SHUTDOWN_WAIT`]; a second signal exits at once). A second daemon on the store is refused.
pub fn run_daemon(config: &Config) -> Result<()> {
    let _lock = DaemonLock::acquire(&config.scheduler_db_path)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as it was: set only by an earlier signal.
        signal_flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .and_then(|_| signal_flag::register(signal, Arc::clone(&stop)))
            .map_err(|error| Error::Failed(format!("cannot handle signals: {error}")))?;
    }
    let mut scheduler = Scheduler::open(config)?;
    let mut watch = Watch {
        seen_version: None,
        earliest: None,
        last_now: unix_seconds(SystemTime::now()),
    };
    while !stop.load(Ordering::SeqCst) {
        let now = SystemTime::now();
        let pause = match scheduler.tick(&mut watch, now) {
            Ok(()) => sleep_until(watch.earliest, now),
            // A store that is busy or briefly unwritable must not end a daemon meant to run
            // for months: say so, and try again.
            Err(error) => {
                eprintln!(
                    "warning: {error}; retrying in {}s",
                    RETRY_AFTER_ERROR.as_secs()
                );
                watch.seen_version = None;
                RETRY_AFTER_ERROR
            }
        };
        scheduler.reap_finished();
        thread::sleep(pause);
    }
    scheduler.shut_down(SHUTDOWN_WAIT)
}

/// What the daemon loop remembers between wake-ups.
struct Watch {
    /// The store's data version when the jobs were last looked at.
    seen_version: Option<i64>,
    /// The earliest next fire among enabled jobs, as of `seen_version`.
    earliest: Option<i64>,
    /// The wall clock at the last clock check.
    last_now: i64,
}

/// `cron-run --once`: fires what is due now, waits for those runs, and says whether all
/// of them succeeded.
pub fn run_once(config: &Config) -> Result<bool> {
    let mut scheduler = Scheduler::open(config)?;
    scheduler.fire_due(unix_seconds(SystemTime::now()))?;
    // Join every worker, even after a failure: each must finish and record its run.
    let mut all_ok = true;
    for (_, worker) in scheduler.workers.drain(..) {
        all_ok &= worker.join().unwrap_or(false);
    }
    Ok(all_ok)
}

/// `cron-fire NAME`: runs one job now, in the foreground, recorded in its history; says
/// whether the run succeeded.
pub fn fire_now(config: &Config, name: &str) -> Result<bool> {
    let mut store = Store::open(&config.scheduler_db_path)?;
    let job = store.job(name)?.ok_or_else(|| unknown_job(name))?;
    let run = store.start_manual_run(&job.name, unix_seconds(SystemTime::now()))?;
    Ok(execute(config, &mut store, &job, run, None))
}

/// The error for a job name that is not in the store.
pub fn unknown_job(name: &str) -> Error {
    Error::Input(format!("no job named `{name}` (see `nanopy cron-list`)"))
}

impl Scheduler {
    fn open(config: &Config) -> Result<Scheduler> {
        let mut store = Store::open(&config.scheduler_db_path)?;
        let interrupted =
            store.mark_interrupted(&owner::is_alive, unix_seconds(SystemTime::now()))?;
        if interrupted > 0 {
            eprintln!(
                "warning: {interrupted} run(s) were cut short by a stop and are marked `interrupted`"
            );
        }
        let mut scheduler = Scheduler {
            config: config.clone(),
            store,
            running: Arc::default(),
            workers: Vec::new(),
        };
        scheduler.check_clock(unix_seconds(SystemTime::now()))?;
        Ok(scheduler)
    }

    /// Notes the wall clock in the store; if it moved back, pulls next fires that lie beyond
    /// the schedule's next fire from now back to it.
    fn check_clock(&mut self, now: i64) -> Result<()> {
        let moved_back = self.store.note_clock(now)?;
        if moved_back <= CLOCK_BACK_TOLERANCE {
            return Ok(());
        }
        eprintln!("warning: the clock moved back by {moved_back}s; recomputing next fires");
        for job in self.store.jobs()? {
            let (true, Some(stored)) = (job.enabled, job.next_fire) else {
                continue;
            };
            if let Ok(Some(expected)) = next_fire_after(&job, now)
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
            // The clock stepped back, or a minute passed: compare notes with the store.
            self.check_clock(now)?;
            watch.earliest = self.store.earliest_fire()?;
            watch.last_now = now;
        }
        if watch.earliest.is_some_and(|fire| fire <= now) {
            self.fire_due(now)?;
            watch.earliest = self.store.earliest_fire()?;
        }
        Ok(())
    }

    /// Claims and starts every due fire.
    fn fire_due(&mut self, now: i64) -> Result<()> {
        for job in self.store.due(now)? {
            let Some(scheduled) = job.next_fire else {
                continue;
            };
            let next = match next_fire_after(&job, now) {
                Ok(next) => next,
                Err(error) => {
                    self.park_broken_job(&job, &error.to_string(), now)?;
                    continue;
                }
            };
            // Ours (a worker thread) or another scheduler's (a live process).
            let still_running = self
                .running
                .lock()
                .expect("no panics hold this lock")
                .contains(&job.name)
                || self.store.is_running(&job.name, &owner::is_alive)?;
            match plan_fire(scheduled, job.grace_secs, now, still_running) {
                FirePlan::Run => {
                    if let Some(run) = self.store.claim(&job, next, "running", now)? {
                        self.start_worker(job, run);
                    }
                }
                FirePlan::Missed => {
                    if let Some(run) = self.store.claim(&job, next, "missed", now)? {
                        let note = format!(
                            "missed by {}s, more than the grace of {}s",
                            now - scheduled,
                            job.grace_secs
                        );
                        self.store
                            .finish_run(run, "missed", None, Some(&note), now)?;
                        log_line(&job, scheduled, "missed", Duration::ZERO, &note);
                    }
                }
                FirePlan::Skipped => {
                    if let Some(run) = self.store.claim(&job, next, "skipped", now)? {
                        let note = "the previous run was still going";
                        self.store
                            .finish_run(run, "skipped", None, Some(note), now)?;
                        eprintln!("warning: job `{}`: fire skipped, {note}", job.name);
                        log_line(&job, scheduled, "skipped", Duration::ZERO, note);
                    }
                }
            }
        }
        Ok(())
    }

    /// A job whose schedule no longer loads is taken off the schedule, with a failed run
    /// saying why, instead of being retried (and warned about) every second.
    fn park_broken_job(&mut self, job: &Job, error: &str, now: i64) -> Result<()> {
        if let Some(run) = self.store.claim(job, None, "failed", now)? {
            let note = format!(
                "cannot compute the next fire: {error}; fix it with `nanopy cron-add --replace`"
            );
            self.store
                .finish_run(run, "failed", None, Some(&note), now)?;
            eprintln!("warning: job `{}`: {note}", job.name);
        }
        Ok(())
    }

    fn start_worker(&mut self, job: Job, run: i64) {
        let config = self.config.clone();
        let running = Arc::clone(&self.running);
        running
            .lock()
            .expect("no panics hold this lock")
            .insert(job.name.clone());
        self.workers.push((
            run,
            thread::spawn(move || {
                let ok = match Store::open(&config.scheduler_db_path) {
                    Ok(mut store) => execute(&config, &mut store, &job, run, job.next_fire),
                    Err(error) => {
                        eprintln!("error: job `{}`: {error}", job.name);
                        false
                    }
                };
                running
                    .lock()
                    .expect("no panics hold this lock")
                    .remove(&job.name);
                ok
            }),
        ));
    }

    fn reap_finished(&mut self) {
        self.workers.retain(|(_, worker)| !worker.is_finished());
    }

    /// Waits up to `wait` for running jobs; those still going are recorded as `interrupted`.
    fn shut_down(mut self, wait: Duration) -> Result<()> {
        self.reap_finished();
        if !self.workers.is_empty() {
            eprintln!(
                "warning: stopping: waiting up to {}s for {} running job(s)",
                wait.as_secs(),
                self.workers.len()
            );
        }
        let deadline = Instant::now() + wait;
        while !self.workers.is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
            self.reap_finished();
        }
        let now = unix_seconds(SystemTime::now());
        for (run, _) in std::mem::take(&mut self.workers) {
            let note = "the scheduler stopped before the run finished";
            self.store
                .finish_run(run, "interrupted", None, Some(note), now)?;
        }
        Ok(())
    }
}

/// Runs the job's agent turn, records the outcome, logs it and notifies.
fn execute(
    config: &Config,
    store: &mut Store,
    job: &Job,
    run: i64,
    scheduled: Option<i64>,
) -> bool {
    let started = Instant::now();
    let options = TurnOptions {
        model: None,
        stream: false,
        no_tools: false,
        caller: Caller::Job,
    };
    let outcome = agent::run(config, &job.message, &options, &mut |_| {});
    let (status, output, error) = match &outcome {
        Ok(turn) => ("ok", Some(turn.reply.as_str()), None),
        Err(error) => ("failed", None, Some(error.to_string())),
    };
    let now = unix_seconds(SystemTime::now());
    if let Err(store_error) = store.finish_run(run, status, output, error.as_deref(), now) {
        eprintln!(
            "error: job `{}`: cannot record the run: {store_error}",
            job.name
        );
    }
    let text = output.map(str::to_string).or(error).unwrap_or_default();
    log_line(
        job,
        scheduled.unwrap_or(now),
        status,
        started.elapsed(),
        &text,
    );
    if let Some(command) = &job.notify {
        notify(command, &job.name, status, &text);
    }
    outcome.is_ok()
}

/// One line per run (time, job, status, duration), then the reply or error.
fn log_line(job: &Job, scheduled: i64, status: &str, took: Duration, text: &str) {
    let time = super::time_in_zone(Some(scheduled), &job.tz).unwrap_or_default();
    let mut entry = format!(
        "{time} job={} status={status} duration={:.2}s\n",
        job.name,
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

/// Runs `sh -c command` with the reply on stdin, bounded in time.
fn notify(command: &str, job: &str, status: &str, text: &str) {
    let child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("NANOPY_JOB", job)
        .env("NANOPY_STATUS", status)
        .stdin(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            eprintln!("warning: job `{job}`: cannot run the notify command: {error}");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(text.as_bytes());
    }
    let deadline = Instant::now() + NOTIFY_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return,
            Ok(Some(status)) => {
                eprintln!("warning: job `{job}`: the notify command exited with {status}");
                return;
            }
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                eprintln!("warning: job `{job}`: the notify command took too long and was stopped");
                return;
            }
        }
    }
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

fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(crate::atomic_file::PRIVATE_FILE_MODE)
            .open(&path)
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

    #[test]
    fn missed_fires_coalesce_into_the_next_future_one() {
        let job = Job {
            id: 1,
            name: "a".into(),
            message: "m".into(),
            cron: "*/5 * * * *".into(),
            tz: "UTC".into(),
            enabled: true,
            grace_secs: 600,
            notify: None,
            next_fire: Some(0),
            last_status: None,
        };
        // Down for an hour: the next fire is the first one after now, not the first missed.
        let now = 3600 * 24 + 17;
        assert_eq!(next_fire_after(&job, now).unwrap(), Some(3600 * 24 + 300));
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
