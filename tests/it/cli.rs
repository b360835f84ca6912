//! The command line itself: help, version, usage errors, exit codes, closed pipes.

use crate::support::Workdir;

#[test]
fn version_prints_the_crate_version() {
    Workdir::new("version")
        .nanopy(&["--version"])
        .run()
        .success()
        .stdout_is(&format!("nanopy {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn help_lists_every_command_and_each_has_its_own_help() {
    let wd = Workdir::new("help");
    let overview = wd.nanopy(&["--help"]).run().success().stdout();
    for command in [
        "agent",
        "cron-add",
        "cron-list",
        "cron-remove",
        "cron-enable",
        "cron-disable",
        "cron-next",
        "cron-run",
        "cron-fire",
        "cron-history",
        "memory-get",
        "memory-set",
        "memory-delete",
        "memory-keys",
        "rules",
        "rules-clear",
        "tools",
        "config",
        "doctor",
    ] {
        assert!(overview.contains(command), "{command} missing from --help");
        wd.nanopy(&[command, "--help"])
            .run()
            .success()
            .stdout_has(&format!("Usage: nanopy {command}"));
    }
}

#[test]
fn help_does_not_create_the_data_directory() {
    let wd = Workdir::new("help-no-files");
    wd.nanopy(&["--help"]).run().success();
    assert!(!wd.home().exists());
}

#[test]
fn unknown_command_exits_2_with_an_error_line() {
    Workdir::new("unknown-command")
        .nanopy(&["frobnicate"])
        .run()
        .status(2)
        .stderr_has("error: unknown command `frobnicate`");
}

#[test]
fn unknown_flag_exits_2() {
    Workdir::new("unknown-flag")
        .nanopy(&["memory-keys", "--bogus"])
        .run()
        .status(2)
        .stderr_has("unknown option `--bogus`");
}

#[test]
fn usage_errors_on_the_command_line_point_to_help() {
    Workdir::new("usage-hint")
        .nanopy(&["memory-keys", "--bogus"])
        .run()
        .status(2)
        .stderr_has("(see `nanopy memory-keys --help`)");
    // Issue 26: the hint names the command whose help explains its flags.
    Workdir::new("usage-hint-cron")
        .nanopy(&["cron-add", "--name", "x", "--message", "m", "--every", "0s"])
        .run()
        .status(2)
        .stderr_has("the shortest interval is 1m (see `nanopy cron-add --help`)");
    Workdir::new("usage-hint-none")
        .nanopy(&["frobnicate"])
        .run()
        .status(2)
        .stderr_has("unknown command `frobnicate` (see `nanopy --help`)");
}

/// Issue 26: `nanopy help` is `--help`, `nanopy help CMD` is `CMD --help`.
#[test]
fn help_is_a_command_too() {
    let wd = Workdir::new("help-command");
    let overview = wd.nanopy(&["--help"]).run().success().stdout();
    wd.nanopy(&["help"]).run().success().stdout_is(&overview);
    let cron = wd.nanopy(&["cron-add", "--help"]).run().success().stdout();
    wd.nanopy(&["help", "cron-add"])
        .run()
        .success()
        .stdout_is(&cron);
    wd.nanopy(&["help", "nope"]).run().status(2);
    assert!(
        overview.contains("NANOPY_BASE_URL"),
        "the overview names the variables"
    );
}

#[test]
fn missing_required_flag_exits_2_naming_it() {
    Workdir::new("missing-flag")
        .nanopy(&["cron-add", "--name", "x", "--message", "m"])
        .run()
        .status(2)
        .stderr_has("needs `--cron`");
}

#[test]
fn closed_pipe_exits_quietly() {
    let wd = Workdir::new("closed-pipe");
    let script = format!(
        "'{}' cron-next '* * * * * *' -n 200000 --tz UTC | head -1 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\" >&2",
        crate::support::binary().display()
    );
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("NANOPYBOT_HOME", wd.home())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim(), "status=0", "stderr: {stderr}");
}
