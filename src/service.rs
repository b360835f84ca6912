//! Long-running services under one shutdown: `cron-run` runs the scheduler, and `serve` will
//! run it beside the Telegram bot. A service wakes up, does what is due and says how long to
//! sleep; SIGINT or SIGTERM stops new work in every service, each then lets its running work
//! finish within a bounded wait, and a second signal exits at once. A service that fails for
//! good stops the others too, and its error is the process's.

use crate::error::{Error, Result};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag as signal_flag;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// How long a stopping service may wait for its running work before recording it as cut.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);

/// One loop of a long-running process.
pub trait Service: Send {
    /// One wake-up: does what is due, and says how long to sleep before the next (short
    /// enough that a stop is noticed soon). An error ends the service and stops the others.
    fn wake(&mut self) -> Result<Duration>;

    /// After a stop: lets running work finish for at most `wait`, and records what did not.
    fn shut_down(self: Box<Self>, wait: Duration) -> Result<()>;
}

/// The shared stop request.
#[derive(Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// A stop that SIGINT and SIGTERM request; a second signal exits at once (status 130).
    pub fn on_signals() -> Result<Stop> {
        let stop = Stop::default();
        for signal in [SIGINT, SIGTERM] {
            // Registered first, so it sees the flag as it was: set only by an earlier signal.
            signal_flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop.0))
                .and_then(|_| signal_flag::register(signal, Arc::clone(&stop.0)))
                .map_err(|error| Error::Failed(format!("cannot handle signals: {error}")))?;
        }
        Ok(stop)
    }

    /// Asks every service to stop.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs `services` until `stop` is requested (or one fails), then shuts each down within
/// `wait`. The first runs on this thread, any others on threads of their own, so one process
/// with a single service costs no extra thread. Returns the first error.
pub fn run(services: Vec<Box<dyn Service>>, stop: &Stop, wait: Duration) -> Result<()> {
    let mut services = services.into_iter();
    let first = services.next();
    let others: Vec<_> = services
        .map(|service| {
            let stop = stop.clone();
            thread::spawn(move || run_one(service, &stop, wait))
        })
        .collect();
    let mut result = first.map_or(Ok(()), |service| run_one(service, stop, wait));
    for other in others {
        let outcome = other
            .join()
            .unwrap_or_else(|_| Err(Error::Failed("a service thread panicked".into())));
        if result.is_ok() {
            result = outcome;
        }
    }
    result
}

fn run_one(mut service: Box<dyn Service>, stop: &Stop, wait: Duration) -> Result<()> {
    let mut failure = None;
    while !stop.requested() {
        match service.wake() {
            Ok(pause) => thread::sleep(pause),
            Err(error) => {
                stop.request();
                failure = Some(error);
            }
        }
    }
    let shut = service.shut_down(wait);
    match failure {
        Some(error) => Err(error),
        None => shut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A service that records its wake-ups and shutdown, and fails at wake-up `fail_at`.
    struct Recorder {
        name: &'static str,
        wakes: usize,
        fail_at: Option<usize>,
        stop_at: Option<(usize, Stop)>,
        events: Arc<Mutex<Vec<String>>>,
    }

    impl Service for Recorder {
        fn wake(&mut self) -> Result<Duration> {
            self.wakes += 1;
            if self.fail_at == Some(self.wakes) {
                return Err(Error::Config(format!("{} failed", self.name)));
            }
            if let Some((at, stop)) = &self.stop_at
                && *at == self.wakes
            {
                stop.request();
            }
            Ok(Duration::from_millis(1))
        }

        fn shut_down(self: Box<Self>, wait: Duration) -> Result<()> {
            self.events
                .lock()
                .unwrap()
                .push(format!("{} down after {:?}", self.name, wait));
            Ok(())
        }
    }

    fn recorder(name: &'static str, events: &Arc<Mutex<Vec<String>>>) -> Recorder {
        Recorder {
            name,
            wakes: 0,
            fail_at: None,
            stop_at: None,
            events: Arc::clone(events),
        }
    }

    #[test]
    fn a_stop_shuts_every_service_down_with_the_wait() {
        let events = Arc::default();
        let stop = Stop::default();
        let first = Recorder {
            stop_at: Some((5, stop.clone())),
            ..recorder("scheduler", &events)
        };
        let second = recorder("bot", &events);
        run(
            vec![Box::new(first), Box::new(second)],
            &stop,
            Duration::from_secs(7),
        )
        .unwrap();
        let mut events = events.lock().unwrap().clone();
        events.sort();
        assert_eq!(events, ["bot down after 7s", "scheduler down after 7s"]);
    }

    #[test]
    fn a_failing_service_stops_the_others_and_its_error_is_returned() {
        let events = Arc::default();
        let failing = Recorder {
            fail_at: Some(3),
            ..recorder("bot", &events)
        };
        let error = run(
            vec![Box::new(recorder("scheduler", &events)), Box::new(failing)],
            &Stop::default(),
            Duration::ZERO,
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "bot failed");
        assert_eq!(events.lock().unwrap().len(), 2, "both were shut down");
    }
}
