//! What the scheduler is handed: a job's fire as an agent turn (with its `--check` first and
//! its `--quiet` answer), and how its runs reach their targets (which deliveries a run makes,
//! quiet hours, sending one).

use crate::agent::{Agent, TurnOptions};
use crate::child::Trouble;
use crate::config::{Config, TargetKind};
use crate::conversation::Continuation;
use crate::cron::{Attempt, Delivery, Job, NewDelivery, Output, RunStatus, Work};
use crate::deliver::{self, Failure, Letter};
use crate::input::Piece;
use crate::tools::Caller;
use jiff::Timestamp;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The target name of a job's `--notify` command in the outbox.
const NOTIFY_TARGET: &str = "--notify";

/// The scheduler's work for this configuration.
pub struct JobWork {
    pub config: Config,
}

impl Work for JobWork {
    fn run(&self, job: &Job) -> Result<Output, String> {
        let mut input = Vec::new();
        if let Some(check) = &job.def.reporting.check {
            match self.check(check)? {
                Checked::NothingToDo(stdout) => {
                    let delivered = if stdout.trim().is_empty() {
                        "nothing to report".to_string()
                    } else {
                        stdout.clone()
                    };
                    return Ok(Output {
                        text: stdout,
                        quiet: true,
                        delivered: Some(delivered),
                        ..Output::default()
                    });
                }
                Checked::Go(stdout) => input.push(Piece {
                    source: "check".into(),
                    text: stdout,
                    image: None,
                }),
            }
        }
        // Its files are read at every fire: a missing one fails the run, naming it.
        for path in &job.def.files {
            input.push(
                crate::input::read_file(std::path::Path::new(path), self.config.image_bytes)
                    .map_err(|error| error.to_string())?,
            );
        }
        crate::input::check_size(&input, &job.def.message, self.config.input_bytes)
            .map_err(|error| error.to_string())?;
        // A job's turn reads no stdin and takes no input beyond its message, its check and
        // its files.
        let options = TurnOptions {
            model: job.def.model.clone(),
            provider: job.def.provider.clone(),
            no_tools: !job.def.tools,
            continuation: match &job.def.session {
                Some(name) => Continuation::Named(name.clone()),
                None => Continuation::New,
            },
            job: Some(job.def.name.clone()),
            quiet: job.def.reporting.quiet,
            input,
            ..TurnOptions::default()
        };
        let turn = Agent::new(&self.config, Caller::Job)
            .turn(&job.def.message, &options, &mut |_| {})
            .map_err(|error| error.to_string())?;
        Ok(Output {
            quiet: job.def.reporting.quiet && crate::agent::is_nothing_to_report(&turn.reply),
            text: turn.reply,
            provider: turn.provider,
            delivered: None,
        })
    }

    fn starting(&self, job: &Job) {
        for name in &job.def.reporting.to {
            if let Ok(target) = super::notify::resolve(&self.config, name)
                && let Err(failure) = deliver::started(&target)
            {
                crate::notice::warning(&format!(
                    "job `{}`: the start ping to `{name}` failed: {}",
                    job.def.name,
                    failure.text()
                ));
            }
        }
    }

    fn deliveries(&self, job: &Job, status: RunStatus, now: i64) -> Vec<NewDelivery> {
        let reporting = &job.def.reporting;
        let held = quiet_hours_until(&self.config, now);
        let mut deliveries = Vec::new();
        for name in &reporting.to {
            let ping = matches!(
                self.config.target(name).map(|target| &target.kind),
                Some(TargetKind::Ping { .. })
            );
            // A ping follows every run but a skipped one, whatever `--notify-on` says, and
            // is never held: the monitor must see the run on time.
            let wanted = if ping {
                status != RunStatus::Skipped
            } else {
                reporting.delivers(status)
            };
            if wanted {
                deliveries.push(NewDelivery {
                    target: name.clone(),
                    command: None,
                    text: None,
                    held_until: if ping { None } else { held },
                });
            }
        }
        if let Some(command) = &job.def.notify
            && reporting.delivers(status)
        {
            deliveries.push(NewDelivery {
                target: NOTIFY_TARGET.into(),
                command: Some(command.clone()),
                text: None,
                held_until: held,
            });
        }
        deliveries
    }

    fn send(&self, delivery: &Delivery) -> Attempt {
        let now = Timestamp::now().as_second();
        let target = if delivery.target == NOTIFY_TARGET {
            crate::config::Target {
                name: NOTIFY_TARGET.into(),
                kind: TargetKind::Command {
                    command: delivery.command.clone().unwrap_or_default(),
                },
            }
        } else {
            match super::notify::resolve(&self.config, &delivery.target) {
                Ok(target) => target,
                Err(error) => return Attempt::Failed(error.to_string()),
            }
        };
        let ping = matches!(target.kind, TargetKind::Ping { .. });
        if !ping && let Some(until) = quiet_hours_until(&self.config, now) {
            return Attempt::Held { until };
        }
        let letter = Letter {
            job: Some(&delivery.job),
            status: Some(&delivery.status),
            scheduled_at: delivery.scheduled_at,
            started_at: delivery.started_at,
            text: &delivery.text,
        };
        match deliver::send(&self.config, &target, &letter) {
            Ok(()) => Attempt::Delivered,
            Err(Failure::Permanent(error)) => Attempt::Failed(error),
            Err(Failure::Retry { error, after }) => Attempt::Retry {
                error,
                not_before: after.map(|wait| now + wait.as_secs() as i64),
            },
        }
    }
}

/// What a job's `--check` said.
enum Checked {
    /// Exit 0: run the turn with this output.
    Go(String),
    /// Exit 1: nothing to do.
    NothingToDo(String),
}

impl JobWork {
    /// Runs `sh -c check` within `check_timeout_secs`; its output is cut to the input limit
    /// with a last line saying how much was left out. Any exit but 0 and 1, a signal or the
    /// timeout is the run's failure, with the check's last line on stderr.
    fn check(&self, check: &str) -> Result<Checked, String> {
        let limit = self.config.input_bytes as usize;
        let timeout = Duration::from_secs(self.config.check_timeout_secs);
        let ran = crate::child::run(
            Command::new("sh")
                .arg("-c")
                .arg(check)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            None,
            timeout,
            limit,
        )
        .map_err(|trouble| match trouble {
            Trouble::Start(error) | Trouble::Wait(error) => {
                format!("the check could not run: {error}")
            }
        })?;
        let mut stdout = String::from_utf8_lossy(&ran.stdout.bytes).into_owned();
        if ran.stdout.total > ran.stdout.bytes.len() {
            stdout.push_str(&format!(
                "\n[{} more bytes of the check's output were left out]\n",
                ran.stdout.total - ran.stdout.bytes.len()
            ));
        }
        let stderr = String::from_utf8_lossy(&ran.stderr.bytes);
        let said = stderr
            .lines()
            .rfind(|line| !line.trim().is_empty())
            .map_or(String::new(), |line| format!(": {}", line.trim()));
        match ran.status {
            Some(status) if status.code() == Some(0) => Ok(Checked::Go(stdout)),
            Some(status) if status.code() == Some(1) => Ok(Checked::NothingToDo(stdout)),
            Some(status) => Err(format!("the check failed ({status}){said}")),
            None => Err(format!(
                "the check took longer than {}s (check_timeout_secs) and was stopped{said}",
                timeout.as_secs()
            )),
        }
    }
}

/// When quiet hours that hold `now` end, if they do.
pub fn quiet_hours_until(config: &Config, now: i64) -> Option<i64> {
    let quiet = config.quiet_hours?;
    let zone = config
        .quiet_hours_tz
        .as_deref()
        .and_then(crate::zone::by_name)
        .unwrap_or_else(crate::zone::local);
    let zoned = Timestamp::from_second(now).ok()?.to_zoned(zone.clone());
    let minute = u32::from(zoned.hour() as u8) * 60 + u32::from(zoned.minute() as u8);
    if !quiet.contains(minute) {
        return None;
    }
    let end = jiff::civil::Time::new((quiet.end / 60) as i8, (quiet.end % 60) as i8, 0, 0).ok()?;
    let today = zoned.date().to_datetime(end).to_zoned(zone.clone()).ok()?;
    let end = if today.timestamp().as_second() > now {
        today
    } else {
        zoned
            .date()
            .tomorrow()
            .ok()?
            .to_datetime(end)
            .to_zoned(zone)
            .ok()?
    };
    Some(end.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_end_today_or_tomorrow_in_their_zone() {
        let dir = crate::test_support::scratch_dir("quiet-hours");
        std::fs::write(
            dir.join("config.json"),
            r#"{"quiet_hours": "22:00-07:00", "quiet_hours_tz": "UTC"}"#,
        )
        .unwrap();
        let home = dir.display().to_string();
        let config =
            Config::load_with(&|name| (name == "NANOPYBOT_HOME").then(|| home.clone())).unwrap();
        let at = |text: &str| text.parse::<Timestamp>().unwrap().as_second();
        assert_eq!(
            quiet_hours_until(&config, at("2026-12-06T23:30:00Z")),
            Some(at("2026-12-07T07:00:00Z"))
        );
        assert_eq!(
            quiet_hours_until(&config, at("2026-12-07T03:00:00Z")),
            Some(at("2026-12-07T07:00:00Z"))
        );
        assert_eq!(quiet_hours_until(&config, at("2026-12-07T12:00:00Z")), None);
        assert_eq!(quiet_hours_until(&config, at("2026-12-07T07:00:00Z")), None);
    }
}
