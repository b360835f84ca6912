//! Soak and fault tests, run by `make soak` (and CI): many writers, SIGKILLs at random points,
//! a full disk, and scheduler kill/restart cycles. Ignored by a plain `cargo test` because they
//! take tens of seconds and the full-disk test mounts a tmpfs (root only).

use crate::support::{FakeServer, Reply, Workdir, binary};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A small deterministic random source (xorshift), seeded per test and printed on failure.
struct Random(u64);

impl Random {
    fn new() -> Random {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("random seed {seed}");
        Random(seed)
    }

    fn below(&mut self, limit: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % limit
    }
}

fn read_memory(wd: &Workdir) -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(wd.path("memory.json")).unwrap();
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => map,
        other => panic!("memory.json is not a JSON object: {other:?}\n{text}"),
    }
}

#[test]
#[ignore = "soak: run by make soak"]
fn soak_eight_writers_times_two_hundred_updates_lose_nothing() {
    let wd = Workdir::new("soak-writers");
    wd.nanopy(&["memory-keys"]).run().success();
    wd.concurrent_memory_writers(8, 200);
    let memory = read_memory(&wd);
    assert_eq!(memory.len(), 8 * 200);
    for writer in 0..8 {
        for n in 0..200 {
            assert_eq!(memory[&format!("w{writer}-{n}")], n, "w{writer}-{n}");
        }
    }
}

#[test]
#[ignore = "soak: run by make soak"]
fn soak_two_hundred_sigkills_during_writes_always_leave_a_valid_file() {
    let wd = Workdir::new("soak-sigkill");
    wd.nanopy(&["memory-set", "anchor", "kept"]).run().success();
    // Large enough that a write takes a while; a single argument may be at most 128 KiB.
    let big = "x".repeat(120 * 1024);
    let mut random = Random::new();
    for round in 0..200 {
        let mut child = wd
            .nanopy(&["memory-set", &format!("k{}", round % 7), &big])
            .spawn();
        std::thread::sleep(Duration::from_micros(random.below(6000)));
        let _ = child.kill();
        child.wait().unwrap();
        let memory = read_memory(&wd);
        assert_eq!(memory["anchor"], "kept", "round {round}");
    }
    // A later write still works, and clears the temporary files killed writers left behind.
    wd.nanopy(&["memory-set", "after", "1"]).run().success();
    assert_eq!(read_memory(&wd)["after"], 1);
    let leftovers: Vec<String> = std::fs::read_dir(wd.home())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
#[ignore = "soak: run by make soak (needs root to mount a tmpfs)"]
fn soak_full_disk_leaves_the_old_memory_file_intact() {
    let wd = Workdir::new("soak-full-disk");
    let small = wd.home().parent().unwrap().join("small-disk");
    std::fs::create_dir_all(&small).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&small)
        .status()
        .unwrap();
    assert!(
        mounted.success(),
        "cannot mount a tmpfs: run as root (make soak)"
    );
    let result = std::panic::catch_unwind(|| {
        let memory_path = small.join("memory.json");
        wd.config(&format!(
            r#"{{"memory_path": "{}"}}"#,
            memory_path.display()
        ));
        wd.nanopy(&["memory-set", "small", "value"]).run().success();
        // 120 KiB fits beside the old file; a second one cannot (old file + temporary > 256 KiB).
        let big = "y".repeat(120 * 1024);
        wd.nanopy(&["memory-set", "big1", &big]).run().success();
        let before = std::fs::read(&memory_path).unwrap();
        wd.nanopy(&["memory-set", "big2", &big])
            .run()
            .status(3)
            .stderr_has("No space left on device");
        assert_eq!(std::fs::read(&memory_path).unwrap(), before);
        let leftovers: Vec<_> = std::fs::read_dir(&small)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        wd.nanopy(&["memory-get", "small"])
            .run()
            .success()
            .stdout_is("value\n");
    });
    let _ = Command::new("umount").arg(&small).status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
#[ignore = "soak: run by make soak"]
fn soak_scheduler_kill_restart_cycles_never_duplicate_or_lose_a_fire() {
    let server = FakeServer::start((0..400).map(|_| Reply::text("tick")).collect());
    let wd = Workdir::new("soak-scheduler");
    wd.config_for(&server);
    wd.nanopy(&[
        "cron-add",
        "--name",
        "tick",
        "--message",
        "m",
        "--cron",
        "* * * * * *",
    ])
    .run()
    .success();
    let mut random = Random::new();
    for _ in 0..15 {
        let mut daemon = wd.nanopy(&["cron-run"]).spawn();
        // A --once scheduler beside the daemon, as from the system crontab.
        wd.nanopy(&["cron-run", "--once"]).run();
        std::thread::sleep(Duration::from_millis(200 + random.below(1300)));
        daemon.kill().unwrap();
        daemon.wait().unwrap();
    }
    wd.nanopy(&["cron-run", "--once"]).run();
    let runs = wd.history("tick");
    let mut fired: Vec<String> = runs
        .iter()
        .filter(|run| run["status"] != "missed" && run["status"] != "skipped")
        .map(|run| run["scheduled_at"].as_str().unwrap().to_string())
        .collect();
    let total = fired.len();
    fired.sort();
    fired.dedup();
    assert_eq!(fired.len(), total, "a fire ran twice");
    assert!(total >= 10, "too few fires: {total}");
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["name"], "tick");
    assert_eq!(list[0]["enabled"], true);
    assert!(
        list[0]["next_fire"].is_string(),
        "the job lost its schedule"
    );
    let db = rusqlite::Connection::open(wd.path("jobs.sqlite")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// Debian's libfaketime, preloaded directly (not through the `faketime` wrapper, which forks:
/// killing the wrapper would leave nanopy running).
fn libfaketime() -> std::path::PathBuf {
    std::fs::read_dir("/usr/lib")
        .unwrap()
        .map(|entry| entry.unwrap().path().join("faketime/libfaketime.so.1"))
        .find(|path| path.exists())
        .expect("libfaketime not found: apt-get install faketime (make soak does)")
}

/// `nanopy args…` under libfaketime: the wall clock starts at `start` (UTC) and runs `speed`
/// times as fast; monotonic time (timeouts, sleeps) stays real.
fn faked(wd: &Workdir, start: &str, speed: u32, args: &[&str]) -> std::process::Command {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", wd.home())
        .env("NANOPYBOT_HOME", wd.home())
        .env("TZ", "UTC")
        .env("LD_PRELOAD", libfaketime())
        .env("FAKETIME", format!("@{start} x{speed}"))
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .stderr(std::process::Stdio::null());
    command
}

#[test]
#[ignore = "soak: run by make soak (needs faketime)"]
fn soak_real_clock_fires_a_gap_time_job_once_right_after_the_gap() {
    let server = FakeServer::start(vec![Reply::text("gap"), Reply::text("again?")]);
    let wd = Workdir::new("soak-faketime-gap");
    wd.config_for(&server);
    // 02:30 does not exist in New York on 2026-03-08; the fire is 03:00 EDT (07:00Z).
    let added = faked(
        &wd,
        "2026-03-08 06:00:00",
        1,
        &[
            "cron-add",
            "--name",
            "gap",
            "--message",
            "m",
            "--cron",
            "30 2 * * *",
            "--tz",
            "America/New_York",
        ],
    )
    .output()
    .unwrap();
    assert!(added.status.success(), "{added:?}");
    assert!(String::from_utf8_lossy(&added.stdout).contains("2026-03-08T03:00:00-04:00"));
    let mut daemon = faked(&wd, "2026-03-08 06:59:58", 1, &["cron-run"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let runs = wd.history("gap");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["scheduled_at"], "2026-03-08T03:00:00-04:00");
    assert_eq!(runs[0]["status"], "ok");
}

#[test]
#[ignore = "soak: run by make soak (needs faketime)"]
fn soak_real_clock_fires_once_through_the_fall_back_hour() {
    let replies = (0..5).map(|_| Reply::text("fold")).collect();
    let server = FakeServer::start(replies);
    let wd = Workdir::new("soak-faketime-fold");
    wd.config_for(&server);
    // 01:30 happens twice in New York on 2026-11-01: 05:30Z (EDT) and 06:30Z (EST).
    let added = faked(
        &wd,
        "2026-11-01 04:00:00",
        1,
        &[
            "cron-add",
            "--name",
            "fold",
            "--message",
            "m",
            "--cron",
            "30 1 * * *",
            "--tz",
            "America/New_York",
            "--grace",
            "3600",
        ],
    )
    .output()
    .unwrap();
    assert!(added.status.success(), "{added:?}");
    // 600x: the two hours from 05:20Z to 07:20Z pass in 12 real seconds.
    let mut daemon = faked(&wd, "2026-11-01 05:20:00", 600, &["cron-run"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(12));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let runs = wd.history("fold");
    assert_eq!(runs.len(), 1, "fired twice in the repeated hour: {runs:?}");
    assert_eq!(runs[0]["scheduled_at"], "2026-11-01T01:30:00-04:00");
    assert_eq!(server.requests().len(), 1);
}

#[test]
#[ignore = "soak: run by make soak"]
fn soak_daemon_survives_a_store_locked_past_its_busy_timeout() {
    let server = FakeServer::start(vec![Reply::text("after the lock")]);
    let wd = Workdir::new("soak-store-locked");
    wd.config_for(&server);
    wd.add_job("patient", "0 0 1 1 *");
    let mut daemon = wd.nanopy(&["cron-run"]).spawn();
    std::thread::sleep(Duration::from_millis(500));
    // The job comes due while another program holds the store's write lock for longer than
    // the 10 s busy timeout, so the daemon's claim cannot be written for a while.
    let db = rusqlite::Connection::open(wd.path("jobs.sqlite")).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    db.execute(
        "UPDATE jobs SET next_fire = ?1 WHERE name = 'patient'",
        [now + 1],
    )
    .unwrap();
    db.execute_batch("BEGIN EXCLUSIVE").unwrap();
    std::thread::sleep(Duration::from_secs(18));
    db.execute_batch("COMMIT").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while server.requests().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(daemon.try_wait().unwrap().is_none(), "the daemon exited");
    daemon.kill().unwrap();
    let output = daemon.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("retrying in"), "{stderr}");
    assert_eq!(
        server.requests().len(),
        1,
        "the job did not fire after the lock: {stderr}"
    );
}

#[test]
#[ignore = "soak: run by make soak (needs faketime)"]
fn soak_real_outage_runs_the_newest_fire_within_grace_not_the_oldest() {
    let server = FakeServer::start(vec![Reply::text("after the outage"), Reply::text("twice?")]);
    let wd = Workdir::new("soak-faketime-outage");
    wd.config_for(&server);
    // Every 5 minutes, added at 09:59:30 and then down until 10:12: the 10:00 fire is 12
    // minutes old (beyond the 600 s grace), the 10:10 one 2 minutes (within it).
    let args = [
        "cron-add",
        "--name",
        "five",
        "--message",
        "m",
        "--cron",
        "*/5 * * * *",
        "--tz",
        "UTC",
    ];
    let added = faked(&wd, "2026-12-01 09:59:30", 1, &args)
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let mut daemon = faked(&wd, "2026-12-01 10:12:00", 1, &["cron-run"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let runs = wd.history("five");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["scheduled_at"], "2026-12-01T10:10:00+00:00");
    assert_eq!(runs[0]["status"], "ok");
    let list = wd.nanopy(&["cron-list", "--json"]).run().success().json();
    assert_eq!(list[0]["next_fire"], "2026-12-01T10:15:00+00:00");
    assert_eq!(server.requests().len(), 1);
}

#[test]
#[ignore = "soak: run by make soak (needs strace)"]
fn soak_a_claim_is_on_disk_before_the_job_reaches_the_provider() {
    let server = FakeServer::start(vec![Reply::text("ok")]);
    let wd = Workdir::new("soak-claim-durable");
    wd.config_for(&server);
    wd.add_job("durable", "0 0 1 1 *");
    rusqlite::Connection::open(wd.path("jobs.sqlite"))
        .unwrap()
        .execute(
            "UPDATE jobs SET next_fire = ?1",
            [SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64
                - 1],
        )
        .unwrap();
    let trace = wd.path("strace.txt");
    let status = Command::new("strace")
        .args([
            "-f",
            "-y",
            "-e",
            "trace=fsync,fdatasync,connect,pwrite64,write",
            "-o",
        ])
        .arg(&trace)
        .arg(binary())
        .args(["cron-run", "--once"])
        .env("NANOPYBOT_HOME", wd.home())
        .env("HOME", wd.home())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("strace not found: apt-get install strace (make soak does)");
    assert!(status.success());
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let port = server
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let connect = lines
        .iter()
        .position(|line| line.contains("connect(") && line.contains(&format!("htons({port})")))
        .unwrap_or_else(|| panic!("no connection to the provider:\n{text}"));
    // The claim is the last write to the write-ahead log before the turn: it must be
    // followed by an fsync of the log before the connection to the provider.
    let wal = |line: &&str| line.contains("jobs.sqlite-wal>");
    let last_write = lines[..connect]
        .iter()
        .rposition(|line| wal(line) && line.contains("write"))
        .unwrap_or_else(|| panic!("the claim wrote nothing to the WAL:\n{text}"));
    let synced = lines[last_write..connect]
        .iter()
        .any(|line| wal(line) && line.contains("sync("));
    assert!(
        synced,
        "the claim was not fsynced before the provider call:\n{text}"
    );
    assert_eq!(wd.history("durable")[0]["status"], "ok");
}
