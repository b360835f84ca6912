//! The schedules beyond cron expressions (one-shot `--at`/`--in`, `--every`), `cron-edit`,
//! per-job model and tools, and the store's migration and refusals, through the command line.

use crate::support::{Reply, Workdir, unix_now, with_server};
use rusqlite::Connection;
use std::time::{Duration, Instant};

fn db(wd: &Workdir) -> Connection {
    Connection::open(wd.path("jobs.sqlite")).unwrap()
}

/// Moves a one-shot job's time (and so its next fire) to `at`, as if it had been added long
/// ago and the scheduler had been down since.
fn move_one_shot(wd: &Workdir, name: &str, at: i64) {
    db(wd)
        .execute(
            "UPDATE jobs SET at = ?1, next_fire = ?1 WHERE name = ?2",
            rusqlite::params![at, name],
        )
        .unwrap();
}

fn job_json(wd: &Workdir, name: &str) -> serde_json::Value {
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    list.as_array()
        .unwrap()
        .iter()
        .find(|job| job["name"] == name)
        .unwrap_or_else(|| panic!("no job {name} in {list}"))
        .clone()
}

fn add(wd: &Workdir, name: &str, schedule: &[&str]) {
    let mut args = vec![
        "cron-add",
        "--name",
        name,
        "--message",
        "hello",
        "--tz",
        "UTC",
    ];
    args.extend_from_slice(schedule);
    wd.nanopy(&args).run().success();
}

fn bytes(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// Writes a store of some kind at the path.
type MakeStore = fn(&std::path::Path);

#[test]
fn a_job_every_ten_seconds_runs_its_newest_fire_when_older_ones_are_beyond_grace() {
    let (wd, server) = with_server("sched-newest", vec![Reply::text("ran")]);
    add(&wd, "tick", &["--cron", "*/10 * * * * *", "--grace", "15"]);
    let now = unix_now();
    let newest = now - now % 10;
    // The stored fire is 30-39 s old, beyond the grace; the newest one is 0-9 s old.
    db(&wd)
        .execute("UPDATE jobs SET next_fire = ?1", [newest - 30])
        .unwrap();
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stdout_has("job=tick status=ok");
    assert_eq!(server.requests().len(), 1);
    let (scheduled, status): (i64, String) = db(&wd)
        .query_row("SELECT scheduled_at, status FROM runs", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!(status, "ok");
    assert!(
        scheduled >= newest,
        "ran for {scheduled}, not the newest fire {newest}"
    );
}

#[test]
fn a_one_shot_job_runs_once_then_is_disabled_and_kept_with_its_history() {
    let (wd, server) = with_server("sched-in", vec![Reply::text("tea is ready")]);
    wd.nanopy(&[
        "cron-add",
        "--name",
        "tea",
        "--message",
        "tea",
        "--in",
        "2h",
    ])
    .run()
    .success()
    .stdout_has("once at");
    let job = job_json(&wd, "tea");
    assert_eq!(job["cron"], serde_json::Value::Null);
    assert_eq!(job["every"], serde_json::Value::Null);
    assert_eq!(job["at"], job["next_fire"]);
    move_one_shot(&wd, "tea", unix_now() - 5);
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stdout_has("tea is ready");
    let job = job_json(&wd, "tea");
    assert_eq!(job["enabled"], false);
    assert_eq!(job["next_fire"], serde_json::Value::Null);
    assert_eq!(job["last_status"], "ok");
    assert_eq!(wd.history("tea").len(), 1);
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stdout_is("");
    assert_eq!(server.requests().len(), 1);
    // Enabling it again needs a new time.
    wd.nanopy(&["cron-enable", "tea"])
        .run()
        .status(2)
        .stderr_has("cron-edit tea --at");
}

#[test]
fn a_one_shot_job_whose_time_passed_beyond_grace_is_missed_and_done() {
    let (wd, server) = with_server("sched-at-missed", vec![Reply::text("late")]);
    add(&wd, "call", &["--at", "23:59"]);
    move_one_shot(&wd, "call", unix_now() - 3600);
    wd.nanopy(&["cron-run", "--once"])
        .run()
        .success()
        .stdout_has("status=missed");
    assert!(server.requests().is_empty());
    let job = job_json(&wd, "call");
    assert_eq!(
        (job["enabled"].clone(), job["last_status"].clone()),
        (false.into(), "missed".into())
    );
}

#[test]
fn a_one_shot_fired_by_a_daemon_and_once_runs_at_the_same_moment_runs_once() {
    let replies = (0..5).map(|_| Reply::text("once")).collect();
    let (wd, server) = with_server("sched-at-once", replies);
    add(&wd, "single", &["--in", "1h"]);
    move_one_shot(&wd, "single", unix_now() + 2);
    let mut daemon = wd.nanopy(&["cron-run"]).spawn();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(4) {
        wd.nanopy(&["cron-run", "--once"]).run();
    }
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(wd.history("single").len(), 1);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn every_fires_at_fixed_intervals_from_when_it_was_added() {
    let wd = Workdir::new("sched-every");
    let before = unix_now();
    add(&wd, "pulse", &["--every", "90m"]);
    let job = job_json(&wd, "pulse");
    assert_eq!(job["every"], "90m");
    let (anchor, next): (i64, i64) = db(&wd)
        .query_row("SELECT anchor, next_fire FROM jobs", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert!(anchor >= before && anchor <= unix_now());
    assert_eq!(next, anchor + 5400);
    wd.nanopy(&[
        "cron-next",
        "--every",
        "90m",
        "-n",
        "2",
        "--from",
        "2026-12-01T10:00:00Z",
        "--tz",
        "UTC",
    ])
    .run()
    .success()
    .stdout_is("2026-12-01T11:30:00+00:00\n2026-12-01T13:00:00+00:00\n");
}

#[test]
fn cron_next_dry_runs_one_shot_schedules() {
    let wd = Workdir::new("sched-next");
    let from = ["--from", "2026-12-01T10:00:00Z", "--tz", "Asia/Jakarta"];
    let mut args = vec!["cron-next", "--at", "07:30"];
    args.extend_from_slice(&from);
    wd.nanopy(&args)
        .run()
        .success()
        .stdout_is("2026-12-02T07:30:00+07:00\n");
    let mut args = vec!["cron-next", "--in", "2h"];
    args.extend_from_slice(&from);
    wd.nanopy(&args)
        .run()
        .success()
        .stdout_is("2026-12-01T19:00:00+07:00\n");
}

#[test]
fn bad_schedules_exit_2_naming_the_flag() {
    let wd = Workdir::new("sched-bad");
    let base = ["cron-add", "--name", "x", "--message", "m"];
    for (extra, says) in [
        (
            &["--cron", "* * * * *", "--in", "1h"][..],
            "not `--cron` and `--in`",
        ),
        (&["--at", "2020-01-01 10:00"], "`--at 2020-01-01 10:00`: "),
        (&["--at", "half past nine"], "`--at half past nine`"),
        (&["--every", "30s"], "the shortest interval is 1m"),
        (&["--every", "0s"], "the shortest interval is 1m"),
        (
            &["--cron", "0 7 * * FOO"],
            "invalid day-of-week field `FOO` in cron expression `0 7 * * FOO`: use 0-7",
        ),
        (&["--cron", "0 7 * FOO *"], "month field `FOO`"),
        (&["--every", "often"], "`--every often`"),
        (&["--in", "2 hours"], "`--in 2 hours`"),
        (&[], "needs `--cron`, `--at`, `--in` or `--every`"),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        wd.nanopy(&args).run().status(2).stderr_has(says);
    }
    wd.nanopy(&["cron-list", "--json"])
        .run()
        .success()
        .stdout_is("[]\n");
}

#[test]
fn job_names_with_control_characters_or_edge_spaces_are_refused() {
    let wd = Workdir::new("sched-names");
    for name in ["a\nb", " lead", "trail ", "", &"n".repeat(65)] {
        wd.nanopy(&[
            "cron-add",
            "--name",
            name,
            "--message",
            "m",
            "--cron",
            "@daily",
        ])
        .run()
        .status(2)
        .stderr_has("a job name");
    }
    wd.nanopy(&["cron-list", "--json"])
        .run()
        .success()
        .stdout_is("[]\n");
}

#[test]
fn cron_edit_changes_a_job_in_place_and_keeps_its_history() {
    let (wd, server) = with_server(
        "sched-edit",
        vec![Reply::text("first"), Reply::text("second")],
    );
    add(&wd, "digest", &["--cron", "0 7 * * *"]);
    wd.nanopy(&["cron-fire", "digest"]).run().success();
    wd.nanopy(&[
        "cron-edit",
        "digest",
        "--message",
        "evening digest",
        "--cron",
        "0 19 * * *",
        "--tz",
        "Asia/Jakarta",
        "--model",
        "cheap",
        "--no-tools",
        "--grace",
        "60",
    ])
    .run()
    .success()
    .stdout_has("changed job `digest`: `0 19 * * *` in Asia/Jakarta");
    let job = job_json(&wd, "digest");
    assert_eq!(job["message"], "evening digest");
    assert_eq!(job["tz"], "Asia/Jakarta");
    assert_eq!(job["model"], "cheap");
    assert_eq!(job["tools"], false);
    assert!(
        job["next_fire"]
            .as_str()
            .unwrap()
            .contains("T19:00:00+07:00")
    );
    wd.nanopy(&["cron-fire", "digest"]).run().success();
    assert_eq!(wd.history("digest").len(), 2);
    let second = &server.requests()[1].json();
    assert_eq!(second["model"], "cheap");
    assert!(second.get("tools").is_none(), "tools offered: {second}");
    assert_eq!(second["messages"][1]["content"], "evening digest");
    // Switch to an interval, and back on with tools and the config's model.
    wd.nanopy(&[
        "cron-edit",
        "digest",
        "--every",
        "2h",
        "--tools",
        "--model",
        "",
    ])
    .run()
    .success()
    .stdout_has("every 2h");
    let job = job_json(&wd, "digest");
    assert_eq!(
        (job["cron"].clone(), job["every"].clone()),
        (serde_json::Value::Null, "2h".into())
    );
    assert_eq!(
        (job["model"].clone(), job["tools"].clone()),
        (serde_json::Value::Null, true.into())
    );
    wd.nanopy(&["cron-edit", "nope", "--message", "m"])
        .run()
        .status(2)
        .stderr_has("no job named `nope`");
    wd.nanopy(&["cron-edit", "digest"])
        .run()
        .status(2)
        .stderr_has("needs something to change");
}

#[test]
fn a_running_daemon_follows_an_edit_within_a_second_and_never_fires_the_old_schedule() {
    let replies = (0..50).map(|_| Reply::text("tick")).collect();
    let (wd, server) = with_server("sched-edit-daemon", replies);
    add(&wd, "switch", &["--cron", "0 0 1 1 *"]);
    let mut daemon = wd.nanopy(&["cron-run"]).spawn();
    std::thread::sleep(Duration::from_millis(300));
    wd.nanopy(&["cron-edit", "switch", "--cron", "* * * * * *"])
        .run()
        .success();
    let start = Instant::now();
    while server.requests().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "the edit was not noticed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    wd.nanopy(&["cron-edit", "switch", "--cron", "0 0 1 1 *"])
        .run()
        .success();
    let claimed: i64 = db(&wd)
        .query_row("SELECT count(*) FROM runs", [], |row| row.get(0))
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let later: i64 = db(&wd)
        .query_row("SELECT count(*) FROM runs", [], |row| row.get(0))
        .unwrap();
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(
        later, claimed,
        "a fire of the old schedule ran after the edit"
    );
}

#[test]
fn a_store_from_the_first_release_lists_its_jobs_and_history() {
    let wd = Workdir::new("sched-v1-store");
    std::fs::create_dir_all(wd.home()).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jobs-v1.sqlite"),
        wd.path("jobs.sqlite"),
    )
    .unwrap();
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["name"], "daily-digest");
    assert_eq!(list[0]["cron"], "0 7 * * MON-FRI");
    assert_eq!(list[1]["name"], "quarter");
    assert_eq!(list[1]["enabled"], false);
    let runs = wd.history("daily-digest");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "failed");
}

#[test]
fn stores_nanopy_refuses_are_not_changed_by_any_command() {
    let wd = Workdir::new("sched-refused");
    std::fs::create_dir_all(wd.home()).unwrap();
    let store = wd.path("jobs.sqlite");
    let kinds: [(&str, MakeStore); 3] = [
        ("APScheduler", |path| {
            Connection::open(path)
                .unwrap()
                .execute_batch(
                    "CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, \
                     next_run_time FLOAT, job_state BLOB NOT NULL);
                     INSERT INTO apscheduler_jobs VALUES ('j', 1.0, x'80');",
                )
                .unwrap();
        }),
        ("newer than this nanopy", |path| {
            Connection::open(path)
                .unwrap()
                .execute_batch("CREATE TABLE future (x); PRAGMA user_version = 7;")
                .unwrap();
        }),
        ("not an SQLite database", |path| {
            std::fs::write(path, "# my crontab notes\n".repeat(300)).unwrap()
        }),
    ];
    for (says, make) in kinds {
        let _ = std::fs::remove_file(&store);
        make(&store);
        let before = bytes(&store);
        for args in [
            &["cron-list"][..],
            &["cron-run", "--once"],
            &[
                "cron-add",
                "--name",
                "n",
                "--message",
                "m",
                "--cron",
                "@daily",
            ],
        ] {
            wd.nanopy(args).run().status(3).stderr_has(says);
            assert_eq!(bytes(&store), before, "{args:?} changed the {says} store");
            assert!(!wd.path("jobs.sqlite-wal").exists(), "{args:?} left a WAL");
        }
    }
}

/// Issue 26, defect 10: a one-shot local time in a DST gap moves on by the gap, and says so
/// (SPEC §5).
#[test]
fn a_one_shot_time_in_a_dst_gap_fires_after_it_with_a_note() {
    let wd = Workdir::new("sched-gap");
    let outcome = wd
        .nanopy(&[
            "cron-add",
            "--name",
            "gap",
            "--message",
            "m",
            "--at",
            "2027-03-28 02:30",
            "--tz",
            "Europe/Berlin",
        ])
        .run()
        .success()
        .stderr_has(
            "note: 2027-03-28 02:30 does not exist in Europe/Berlin (the clocks skip it); \
             the job fires at 2027-03-28T03:30:00+02:00 instead",
        );
    assert!(outcome.stdout().contains("2027-03-28T03:30:00+02:00"));
    // A time that exists says nothing.
    let fine = wd
        .nanopy(&[
            "cron-add",
            "--name",
            "fine",
            "--message",
            "m",
            "--at",
            "2027-03-28 04:30",
            "--tz",
            "Europe/Berlin",
        ])
        .run()
        .success();
    assert_eq!(fine.stderr(), "");
}
