//! The scheduler through the command line: adding, listing, dry runs, firing, history, and
//! exactly-once with several schedulers on one store.

use crate::support::{Reply, Workdir, unix_now, with_server};
use rusqlite::Connection;
use std::time::{Duration, Instant};

/// Moves a job's next fire, as if the scheduler had been down since then.
fn set_next_fire(wd: &Workdir, name: &str, at: i64) {
    let db = Connection::open(wd.path("jobs.sqlite")).unwrap();
    db.execute(
        "UPDATE jobs SET next_fire = ?1 WHERE name = ?2",
        rusqlite::params![at, name],
    )
    .unwrap();
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn cron_add_prints_the_next_fire_and_cron_list_shows_the_job() {
    let wd = Workdir::new("cron-add");
    wd.nanopy(&[
        "cron-add",
        "--name",
        "morning",
        "--message",
        "good morning",
        "--cron",
        "0 7 * * MON-FRI",
        "--tz",
        "Asia/Jakarta",
    ])
    .run()
    .success()
    .stdout_has("added job `morning`")
    .stdout_has("T07:00:00+07:00");
    wd.nanopy(&["cron-list"])
        .run()
        .success()
        .stdout_has("morning")
        .stdout_has("0 7 * * MON-FRI")
        .stdout_has("Asia/Jakarta");
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    let job = &list[0];
    assert_eq!(job["name"], "morning");
    assert_eq!(job["message"], "good morning");
    assert_eq!(job["cron"], "0 7 * * MON-FRI");
    assert_eq!(job["tz"], "Asia/Jakarta");
    assert_eq!(job["enabled"], true);
    assert!(
        job["next_fire"]
            .as_str()
            .unwrap()
            .ends_with("T07:00:00+07:00")
    );
    assert_eq!(job["last_status"], serde_json::Value::Null);
}

#[test]
fn cron_add_defaults_to_the_system_zone() {
    let wd = Workdir::new("cron-default-zone");
    wd.nanopy(&[
        "cron-add",
        "--name",
        "a",
        "--message",
        "m",
        "--cron",
        "0 9 * * *",
    ])
    .env("TZ", "Europe/Berlin")
    .run()
    .success()
    .stdout_has("in Europe/Berlin");
}

#[test]
fn duplicate_job_name_exits_2_unless_replace() {
    let wd = Workdir::new("cron-duplicate");
    wd.add_job("a", "0 9 * * *");
    wd.nanopy(&[
        "cron-add",
        "--name",
        "a",
        "--message",
        "m",
        "--cron",
        "0 10 * * *",
    ])
    .run()
    .status(2)
    .stderr_has("--replace");
    wd.nanopy(&[
        "cron-add",
        "--name",
        "a",
        "--message",
        "new",
        "--cron",
        "0 10 * * *",
        "--replace",
    ])
    .run()
    .success();
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["cron"], "0 10 * * *");
}

#[test]
fn invalid_expressions_exit_2_naming_the_field() {
    let wd = Workdir::new("cron-invalid");
    for (cron, expected) in [
        ("0 0 30 2 *", "never fires"),
        ("61 * * * *", "minute field `61`"),
        ("0 9 * * FUNDAY", "day-of-week field"),
        ("0 9 * *", "has 4 fields"),
    ] {
        wd.nanopy(&["cron-add", "--name", "x", "--message", "m", "--cron", cron])
            .run()
            .status(2)
            .stderr_has(expected);
    }
    wd.nanopy(&[
        "cron-add",
        "--name",
        "x",
        "--message",
        "m",
        "--cron",
        "0 9 * * *",
        "--tz",
        "Nowhere/City",
    ])
    .run()
    .status(2)
    .stderr_has("unknown time zone `Nowhere/City`");
    wd.nanopy(&["cron-list", "--json"])
        .run()
        .success()
        .stdout_is("[]\n");
}

#[test]
fn cron_next_prints_fire_times_with_offsets_across_dst() {
    Workdir::new("cron-next")
        .nanopy(&[
            "cron-next",
            "30 2 * * *",
            "-n",
            "3",
            "--tz",
            "America/New_York",
            "--from",
            "2026-03-07T12:00:00Z",
        ])
        .run()
        .success()
        .stdout_is(
            "2026-03-08T03:00:00-04:00\n2026-03-09T02:30:00-04:00\n2026-03-10T02:30:00-04:00\n",
        );
}

#[test]
fn cron_next_fires_once_in_the_fall_back_hour() {
    Workdir::new("cron-next-fold")
        .nanopy(&[
            "cron-next",
            "30 1 * * *",
            "-n",
            "2",
            "--tz",
            "America/New_York",
            "--from",
            "2026-10-31T12:00:00Z",
        ])
        .run()
        .success()
        .stdout_is("2026-11-01T01:30:00-04:00\n2026-11-02T01:30:00-05:00\n");
}

#[test]
fn remove_enable_disable_and_unknown_jobs() {
    let wd = Workdir::new("cron-manage");
    wd.add_job("a", "0 9 * * *");
    wd.nanopy(&["cron-disable", "a"]).run().success();
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["enabled"], false);
    assert_eq!(list[0]["next_fire"], serde_json::Value::Null);
    wd.nanopy(&["cron-enable", "a"])
        .run()
        .success()
        .stdout_has("next fire");
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["enabled"], true);
    wd.nanopy(&["cron-remove", "a"]).run().success();
    wd.nanopy(&["cron-list", "--json"])
        .run()
        .success()
        .stdout_is("[]\n");
    for command in ["cron-remove", "cron-enable", "cron-disable", "cron-fire"] {
        wd.nanopy(&[command, "ghost"])
            .run()
            .status(2)
            .stderr_has("no job named `ghost`");
    }
}

#[test]
fn run_once_fires_a_due_job_and_records_it() {
    let (wd, server) = with_server("cron-once", vec![Reply::text("reminder sent")]);
    wd.add_job("ping", "0 0 1 1 *");
    set_next_fire(&wd, "ping", unix_now() - 5);
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stdout_has("job=ping status=ok")
        .stdout_has("reminder sent");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].json()["messages"][1]["content"], "job ping");
    let runs = wd.history("ping");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "ok");
    assert_eq!(runs[0]["output"], "reminder sent");
    // The next fire moved on to next year's first of January.
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert!(
        list[0]["next_fire"]
            .as_str()
            .unwrap()
            .contains("-01-01T00:00:00")
    );
    assert_eq!(list[0]["last_status"], "ok");
    // Nothing is due any more.
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stdout_is("");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn fire_missed_beyond_grace_is_recorded_not_run() {
    let (wd, server) = with_server("cron-missed", vec![Reply::text("should not run")]);
    wd.add_job("late", "0 0 1 1 *");
    set_next_fire(&wd, "late", unix_now() - 3600);
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stdout_has("status=missed");
    assert!(server.requests().is_empty());
    let runs = wd.history("late");
    assert_eq!(runs[0]["status"], "missed");
    assert!(runs[0]["error"].as_str().unwrap().contains("grace"));
}

#[test]
fn failed_job_is_recorded_and_once_exits_1() {
    let (wd, _server) = with_server("cron-failed", vec![Reply::error(400, "bad request")]);
    wd.add_job("bad", "0 0 1 1 *");
    set_next_fire(&wd, "bad", unix_now() - 1);
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .status(1)
        .stdout_has("status=failed");
    let runs = wd.history("bad");
    assert_eq!(runs[0]["status"], "failed");
    assert!(runs[0]["error"].as_str().unwrap().contains("bad request"));
}

#[test]
fn cron_fire_runs_now_and_keeps_the_schedule() {
    let (wd, server) = with_server("cron-fire", vec![Reply::text("fired by hand")]);
    wd.add_job("manual", "0 0 1 1 *");
    let before = wd.nanopy(&["cron-list", "--json"]).run().success().json()[0]["next_fire"].clone();
    wd.nanopy(&["cron-fire", "manual"])
        .run()
        .success()
        .stdout_has("fired by hand");
    assert_eq!(server.requests().len(), 1);
    let runs = wd.history("manual");
    assert_eq!(runs[0]["status"], "ok");
    assert_eq!(runs[0]["scheduled_at"], serde_json::Value::Null);
    assert!(runs[0]["started_at"].as_str().unwrap().ends_with("+00:00"));
    let after = wd.nanopy(&["cron-list", "--json"]).run().success().json()[0]["next_fire"].clone();
    assert_eq!(before, after);
}

#[test]
fn daemon_notices_a_job_added_by_another_process() {
    let (wd, server) = with_server("cron-daemon", vec![Reply::text("tick")]);
    wd.nanopy(&["cron-list"]).run().success();
    let mut daemon = wd.nanopy(&["cron-run"]).spawn();
    std::thread::sleep(Duration::from_millis(300));
    wd.add_job("soon", "* * * * * *");
    wait_for("the daemon to fire the job", Duration::from_secs(6), || {
        !server.requests().is_empty()
    });
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(
        server.requests()[0].json()["messages"][1]["content"],
        "job soon"
    );
}

#[test]
fn second_daemon_on_the_same_store_exits_3_naming_the_first() {
    let wd = Workdir::new("cron-two-daemons");
    wd.nanopy(&["cron-list"]).run().success();
    let mut first = wd.nanopy(&["cron-run"]).spawn();
    let pid = first.id().to_string();
    let lock = wd.path("jobs.sqlite.daemon.lock");
    wait_for("the first daemon's lock", Duration::from_secs(5), || {
        std::fs::read_to_string(&lock).is_ok_and(|text| text == pid)
    });
    wd.nanopy(&["cron-run"])
        .run()
        .status(3)
        .stderr_has(&format!("pid {pid}"));
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn daemon_and_once_runs_never_fire_the_same_time_twice() {
    let replies = (0..100).map(|_| Reply::text("ok")).collect();
    let (wd, server) = with_server("cron-exactly-once", replies);
    wd.add_job("every-second", "* * * * * *");
    let mut daemon = wd.nanopy(&["cron-run"]).spawn();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        wd.nanopy(&["cron-run", "--once"]).run();
    }
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let runs = wd.history("every-second");
    let mut fired: Vec<String> = runs
        .iter()
        .filter(|run| {
            run["status"] == "ok" || run["status"] == "running" || run["status"] == "interrupted"
        })
        .map(|run| run["scheduled_at"].as_str().unwrap().to_string())
        .collect();
    let total = fired.len();
    fired.sort();
    fired.dedup();
    assert_eq!(fired.len(), total, "a fire ran twice: {runs:?}");
    assert!(total >= 2, "too few fires: {runs:?}");
    assert_eq!(server.requests().len(), total);
}

#[test]
fn apscheduler_store_is_refused_with_exit_3() {
    let wd = Workdir::new("cron-apscheduler");
    std::fs::create_dir_all(wd.home()).unwrap();
    Connection::open(wd.path("jobs.sqlite"))
        .unwrap()
        .execute_batch("CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, job_state BLOB NOT NULL)")
        .unwrap();
    wd.nanopy(&["cron-list"])
        .run()
        .status(3)
        .stderr_has("APScheduler")
        .stderr_has("re-add");
}

#[test]
fn store_that_is_not_sqlite_exits_3_and_is_kept() {
    let wd = Workdir::new("cron-not-sqlite");
    std::fs::create_dir_all(wd.home()).unwrap();
    std::fs::write(
        wd.path("jobs.sqlite"),
        "this is not a database, it is a text file of some length",
    )
    .unwrap();
    wd.nanopy(&["cron-list"])
        .run()
        .status(3)
        .stderr_has("not an SQLite database");
    assert!(
        std::fs::read_to_string(wd.path("jobs.sqlite"))
            .unwrap()
            .starts_with("this is not")
    );
}

#[test]
fn notify_command_gets_reply_and_environment() {
    let (wd, _server) = with_server("cron-notify", vec![Reply::text("the reply")]);
    let out = wd.path("notified.txt");
    let command = format!(
        "{{ echo \"$NANOPY_JOB $NANOPY_STATUS\"; cat; }} > '{}'",
        out.display()
    );
    wd.nanopy(&[
        "cron-add",
        "--name",
        "n",
        "--message",
        "m",
        "--cron",
        "0 0 1 1 *",
        "--notify",
        &command,
    ])
    .run()
    .success();
    wd.nanopy(&["cron-fire", "n"]).run().success();
    assert_eq!(std::fs::read_to_string(out).unwrap(), "n ok\nthe reply");
}

#[test]
fn fires_missed_within_grace_coalesce_into_one_run() {
    let (wd, server) = with_server(
        "cron-coalesce",
        vec![Reply::text("once"), Reply::text("twice")],
    );
    wd.add_job("minutely", "* * * * *");
    // Down for five minutes: five fires were missed, all within the 600 s grace.
    set_next_fire(&wd, "minutely", unix_now() - 300);
    wd.nanopy(&["cron-run", "--once"]).run().success();
    assert_eq!(server.requests().len(), 1);
    let runs = wd.history("minutely");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "ok");
    let db = Connection::open(wd.path("jobs.sqlite")).unwrap();
    let next: i64 = db
        .query_row(
            "SELECT next_fire FROM jobs WHERE name = 'minutely'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        next > unix_now() - 1,
        "next fire must be in the future, not replayed"
    );
}

#[test]
fn fire_during_a_running_previous_run_is_skipped() {
    let slow = (0..4)
        .map(|_| Reply::Delay(Duration::from_millis(2500), Box::new(Reply::text("slow"))))
        .collect();
    let (wd, _server) = with_server("cron-overlap", slow);
    wd.add_job("busy", "* * * * * *");
    let mut daemon = wd.nanopy(&["cron-run"]).spawn();
    wait_for("a skipped fire", Duration::from_secs(8), || {
        wd.history("busy")
            .iter()
            .any(|run| run["status"] == "skipped")
    });
    daemon.kill().unwrap();
    let output = daemon.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: job `busy`: fire skipped"),
        "{stderr}"
    );
}

#[test]
fn sigterm_lets_the_running_job_finish() {
    let (wd, server) = with_server(
        "cron-sigterm",
        vec![Reply::Delay(
            Duration::from_millis(1500),
            Box::new(Reply::text("finished anyway")),
        )],
    );
    wd.add_job("long", "0 0 1 1 *");
    set_next_fire(&wd, "long", unix_now());
    let daemon = wd.nanopy(&["cron-run"]).spawn();
    wait_for("the run to start", Duration::from_secs(5), || {
        !server.requests().is_empty()
    });
    terminate(&daemon);
    let output = daemon.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("finished anyway"));
    assert_eq!(wd.history("long")[0]["status"], "ok");
}

#[test]
fn run_cut_short_by_kill_9_is_marked_interrupted_at_next_start() {
    let (wd, server) = with_server(
        "cron-kill9",
        vec![Reply::Delay(
            Duration::from_secs(10),
            Box::new(Reply::text("never seen")),
        )],
    );
    wd.add_job("victim", "0 0 1 1 *");
    set_next_fire(&wd, "victim", unix_now());
    let mut daemon = wd.nanopy(&["cron-run"]).spawn();
    wait_for("the run to start", Duration::from_secs(5), || {
        !server.requests().is_empty()
    });
    daemon.kill().unwrap(); // SIGKILL
    daemon.wait().unwrap();
    assert_eq!(wd.history("victim")[0]["status"], "running");
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stderr_has("interrupted");
    let runs = wd.history("victim");
    assert_eq!(
        runs.len(),
        1,
        "the killed fire must not run again: {runs:?}"
    );
    assert_eq!(runs[0]["status"], "interrupted");
}

#[test]
fn history_text_shows_status_and_first_line_of_output() {
    let (wd, _server) = with_server("cron-history-text", vec![Reply::text("line one\nline two")]);
    wd.add_job("h", "0 0 1 1 *");
    wd.nanopy(&["cron-fire", "h"]).run().success();
    let text = wd.nanopy(&["cron-history"]).run().success().stdout();
    assert!(text.contains("STATUS"), "{text}");
    assert!(text.contains("ok"), "{text}");
    assert!(
        text.contains("line one") && !text.contains("line two"),
        "{text}"
    );
    wd.nanopy(&["cron-history", "ghost"]).run().status(2);
}

#[test]
fn job_whose_zone_vanished_is_parked_with_a_failed_run_not_retried_forever() {
    let (wd, server) = with_server("cron-broken-zone", vec![Reply::text("never")]);
    wd.add_job("lost", "0 0 1 1 *");
    let db = Connection::open(wd.path("jobs.sqlite")).unwrap();
    db.execute(
        "UPDATE jobs SET tz = 'Gone/Away', next_fire = ?1 WHERE name = 'lost'",
        [unix_now() - 1],
    )
    .unwrap();
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stderr_has("warning: job `lost`: cannot compute the next fire");
    assert!(server.requests().is_empty());
    let runs = wd.history("lost");
    assert_eq!(runs[0]["status"], "failed");
    assert!(runs[0]["error"].as_str().unwrap().contains("Gone/Away"));
    // Parked: a second pass neither runs it nor warns again.
    let again = wd.nanopy(&["cron-run", "--once"]).run().success();
    assert!(again.stderr().is_empty(), "{}", again.stderr());
    wd.nanopy(&["doctor"])
        .run()
        .status(1)
        .stdout_has("problem: job `lost` is enabled but has no next fire");
}

#[test]
fn fire_while_another_process_runs_the_job_is_skipped() {
    let (wd, server) = with_server(
        "cron-overlap-processes",
        vec![Reply::Delay(
            Duration::from_secs(3),
            Box::new(Reply::text("slow")),
        )],
    );
    wd.add_job("slow", "0 0 1 1 *");
    // Another process is running the job (a manual fire), when its scheduled fire comes due.
    let mut manual = wd.nanopy(&["cron-fire", "slow"]).spawn();
    wait_for("the manual run to start", Duration::from_secs(5), || {
        !server.requests().is_empty()
    });
    set_next_fire(&wd, "slow", unix_now());
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stdout_has("status=skipped")
        .stderr_has("previous run was still going");
    assert!(manual.wait().unwrap().success());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn run_whose_owner_pid_was_reused_is_still_marked_interrupted() {
    let (wd, server) = with_server("cron-pid-reuse", vec![Reply::text("ran")]);
    wd.add_job("boot", "0 0 1 1 *");
    // A run left `running` before a reboot by a process whose pid now belongs to a live
    // process (this test): same boot id would be needed to count it as alive.
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let owner = format!("{} {} 1", boot.trim(), std::process::id());
    let db = Connection::open(wd.path("jobs.sqlite")).unwrap();
    db.execute(
        "INSERT INTO runs (job, scheduled_at, started_at, status, owner)
         VALUES ('boot', 0, 0, 'running', ?1)",
        [&owner],
    )
    .unwrap();
    set_next_fire(&wd, "boot", unix_now());
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stderr_has("interrupted")
        .stdout_has("status=ok");
    assert_eq!(
        server.requests().len(),
        1,
        "the job must run, not be skipped forever"
    );
    let statuses: Vec<String> = wd
        .history("boot")
        .iter()
        .map(|run| run["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, vec!["ok", "interrupted"]);
}

#[test]
fn next_fires_computed_under_a_clock_that_ran_ahead_are_pulled_back() {
    let (wd, _server) = with_server("cron-clock-back", vec![Reply::text("ok")]);
    wd.add_job("minutely", "* * * * *");
    wd.add_job("yearly", "0 0 1 1 *");
    wd.nanopy(&["cron-run", "--once"]).run().success();
    let yearly_before =
        wd.nanopy(&["cron-list", "--json"]).run().success().json()[1]["next_fire"].clone();
    // As if the clock had run ten years ahead while the fire was computed, then was corrected.
    let ahead = unix_now() + 10 * 365 * 86_400;
    set_next_fire(&wd, "minutely", ahead);
    let db = Connection::open(wd.path("jobs.sqlite")).unwrap();
    db.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'last_seen'",
        [ahead],
    )
    .unwrap();
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stderr_has("the clock moved back");
    let next: i64 = db
        .query_row(
            "SELECT next_fire FROM jobs WHERE name = 'minutely'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(next <= unix_now() + 60, "still in the future: {next}");
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(
        list[1]["next_fire"], yearly_before,
        "a correct far fire must stay"
    );
    // Handled once: the next pass sees no jump.
    let again = wd.nanopy(&["cron-run", "--once"]).run().success();
    assert!(
        !again.stderr().contains("clock moved back"),
        "{}",
        again.stderr()
    );
}

#[test]
fn a_job_message_that_reads_like_feedback_teaches_no_rule() {
    let (wd, _server) = with_server("cron-no-rule", vec![Reply::text("ok")]);
    wd.nanopy(&[
        "cron-add",
        "--name",
        "brief",
        "--message",
        "always reply briefly",
        "--cron",
        "0 0 1 1 *",
    ])
    .run()
    .success();
    wd.nanopy(&["cron-fire", "brief"]).run().success();
    wd.nanopy(&["rules"]).run().success().stdout_is("");
}

#[test]
fn serve_runs_the_scheduler_and_stops_cleanly_on_sigterm() {
    let (wd, server) = with_server("serve-scheduler", vec![Reply::text("served")]);
    wd.add_job("due", "0 0 1 1 *");
    set_next_fire(&wd, "due", unix_now());
    let daemon = wd.nanopy(&["serve"]).spawn();
    wait_for("serve to fire the job", Duration::from_secs(6), || {
        wd.history("due")
            .first()
            .is_some_and(|run| run["status"] == "ok")
    });
    terminate(&daemon);
    let output = daemon.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("served"));
    assert_eq!(server.requests().len(), 1);
    // Without `telegram` configured there is nothing to warn about.
    assert!(!String::from_utf8_lossy(&output.stderr).contains("Telegram"));
}

#[test]
fn serve_with_telegram_configured_says_the_bot_is_not_built_and_still_schedules() {
    let wd = Workdir::new("serve-telegram");
    wd.config(r#"{"telegram": {"token_env": "TG_TOKEN", "allow": [1]}}"#);
    let daemon = wd.nanopy(&["serve"]).env("TG_TOKEN", "123:abc").spawn();
    let lock = wd.path("jobs.sqlite.daemon.lock");
    let pid = daemon.id().to_string();
    wait_for("serve's scheduler lock", Duration::from_secs(5), || {
        std::fs::read_to_string(&lock).is_ok_and(|text| text == pid)
    });
    terminate(&daemon);
    let output = daemon.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: the Telegram bot is not in this build yet"),
        "{stderr}"
    );
    assert!(!stderr.contains("123:abc"));
}

/// Sends SIGTERM to a child, as systemd stops a unit.
fn terminate(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
