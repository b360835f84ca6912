"""`make bench`: the SPEC §7 figures for a release binary, as medians, each with a baseline
measured in the same run (`/bin/true` for start-up, `curl` for a turn against the same server).
Usage: bench.py STATIC_BINARY [OTHER_TARGET_BINARY…] (the others are only sized).

Each command runs under bench/measure.c, a tiny static launcher that reports the child's own
wall time and peak RSS (wait4's rusage). Run on an otherwise quiet machine; the
figures are for reading, not for asserting in tests.
"""

import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import fake_openai  # noqa: E402

RUNS_STARTUP = 200
RUNS_TURN = 100


def build_helper(name):
    """Compiles bench/NAME.c (static, small) into the Cargo target directory."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "target", name)
    source = os.path.join(here, name + ".c")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(source):
        subprocess.run(["cc", "-O2", "-static", "-o", out, source], check=True)
    return out


LAUNCHER = None


def measure(argv, env=None, runs=50):
    """Median wall time (ms) and median peak RSS (KiB) of running argv `runs` times."""
    result = subprocess.run([LAUNCHER, str(runs)] + argv, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("benchmark command failed: %s\n%s" % (argv, result.stderr))
    pairs = [line.split() for line in result.stdout.splitlines()]
    times = [int(micros) / 1000 for micros, _ in pairs]
    rss = [int(kib) for _, kib in pairs]
    return statistics.median(times), statistics.median(rss)


def server_round_trip(base_url, body, runs):
    """Median time (ms) of the bare HTTP exchange with the stand-in server, from this process:
    the server's own time plus loopback, with no client start-up at all."""
    host, port = base_url.split("//")[1].split("/")[0].split(":")
    request = ("POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json"
               "\r\nContent-Length: %d\r\n\r\n%s" % (host, len(body), body)).encode()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with socket.create_connection((host, int(port))) as conn:
            conn.sendall(request)
            while conn.recv(65536):
                pass
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def row(name, value, budget, unit, baseline=None):
    verdict = "ok" if value <= budget else "OVER"
    base = "" if baseline is None else "  (baseline %s)" % baseline
    print("%-48s %10.2f %-4s budget %7.2f %-4s %s%s" % (name, value, unit, budget, unit, verdict, base))


def rss_and_cpu(pid):
    """Current RSS (KiB) and CPU seconds used so far by process `pid`."""
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    # schedstat's first field is the time spent on a CPU in nanoseconds, far finer than the
    # 10 ms ticks of /proc/PID/stat; it covers every thread of the process.
    cpu_ns = 0
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, task)) as f:
            cpu_ns += int(f.read().split()[0])
    return rss, cpu_ns / 1e9


def write_config(home, config):
    with open(os.path.join(home, "config.json"), "w") as f:
        json.dump(config, f)


def new_home(base_url):
    home = tempfile.mkdtemp(prefix="nanopy-bench-")
    write_config(home, {"provider": {"base_url": base_url, "model": "bench"}})
    return home, dict(os.environ, NANOPYBOT_HOME=home, TZ="UTC")


def run_quiet(argv, env):
    """Runs a setup command (not measured), which must succeed."""
    subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)


def scheduler_figures(binary, base_url):
    """Idle daemon cost, fire latency, and cron-add / due lookup with 10 000 jobs."""
    # Idle: ten jobs, none due within the sample window.
    home, env = new_home(base_url)
    for n in range(10):
        subprocess.run([binary, "cron-add", "--name", "idle%d" % n, "--message", "m",
                        "--cron", "0 0 1 1 *"], env=env, check=True, stdout=subprocess.DEVNULL)
    daemon = subprocess.Popen([binary, "cron-run"], env=env, stdout=subprocess.DEVNULL)
    time.sleep(2)
    _, cpu_start = rss_and_cpu(daemon.pid)
    sample = 30
    time.sleep(sample)
    rss, cpu_end = rss_and_cpu(daemon.pid)
    daemon.terminate()
    daemon.wait()
    row("cron-run idle: RSS", rss / 1024, 3.0, "MB")
    row("cron-run idle: CPU per hour (%ds sample)" % sample,
        (cpu_end - cpu_start) * 3600 / sample, 0.5, "s")
    shutil.rmtree(home, ignore_errors=True)

    # Fire latency: a job every second; the server notes when each request arrives.
    home, env = new_home(base_url)
    subprocess.run([binary, "cron-add", "--name", "tick", "--message", "tick",
                    "--cron", "* * * * * *"], env=env, check=True, stdout=subprocess.DEVNULL)
    fake_openai.ARRIVALS.clear()
    daemon = subprocess.Popen([binary, "cron-run"], env=env, stdout=subprocess.DEVNULL)
    time.sleep(12)
    daemon.terminate()
    daemon.wait()
    # Skip the first fires (start-up); each fire belongs to the second it arrived in.
    lateness = [(t - int(t)) * 1000 for t in fake_openai.ARRIVALS[2:]]
    if lateness:
        row("fire latency: scheduled second to request (median of %d)" % len(lateness),
            statistics.median(lateness), 20.0, "ms")
    shutil.rmtree(home, ignore_errors=True)

    # 10 000 jobs: inserted straight into the store nanopy created, then timed through nanopy.
    home, env = new_home(base_url)
    subprocess.run([binary, "cron-list"], env=env, check=True, stdout=subprocess.DEVNULL)
    empty_once, _ = measure([binary, "cron-run", "--once"], env=env, runs=20)
    db = sqlite3.connect(os.path.join(home, "jobs.sqlite"))
    far = int(time.time()) + 10 * 365 * 86400
    db.executemany(
        "INSERT INTO jobs (name, message, cron, tz, grace_secs, next_fire, created_at, updated_at)"
        " VALUES (?, 'm', '0 0 1 1 *', 'UTC', 600, ?, 0, 0)",
        [("bulk%05d" % n, far + n) for n in range(10000)])
    db.commit()
    db.close()
    once_ms, _ = measure([binary, "cron-run", "--once"], env=env, runs=20)
    row("10k jobs: due lookup (cron-run --once, median)", once_ms, 5.0, "ms",
        "empty store %.2f ms" % empty_once)
    add_times = []
    for n in range(20):
        ms, _ = measure([binary, "cron-add", "--name", "new%d" % n, "--message", "m",
                         "--cron", "*/5 * * * *"], env=env, runs=1)
        add_times.append(ms)
    true_ms, _ = measure(["/bin/true"], runs=20)
    row("10k jobs: cron-add (median)", statistics.median(add_times), 5.0, "ms",
        "/bin/true %.2f ms" % true_ms)
    shutil.rmtree(home, ignore_errors=True)


def fsync_count(argv, env):
    """How many fsync/fdatasync calls one run of argv makes (strace -c -f)."""
    out = tempfile.mktemp(prefix="nanopy-strace-")
    subprocess.run(["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", out] + argv,
                   env=env, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    with open(out) as f:
        lines = [line.split() for line in f if line.strip().endswith("total")]
    os.unlink(out)
    # The total line: % time, seconds, usecs/call, calls, [errors,] "total".
    return int(lines[0][3]) if lines and len(lines[0]) >= 5 else 0


def fsync_figures(binary, base_url):
    """What each short command pays the disk: fsyncs per command, and one fsync's cost on this
    disk as the baseline. Stage one's store (synchronous NORMAL, checkpoint on close) made 4
    per cron-add; a durable claim needs one fsync of the write-ahead log per commit."""
    if shutil.which("strace") is None:
        sys.exit("strace is needed to count fsyncs: apt-get install strace (make bench does)")
    home, env = new_home(base_url)
    subprocess.run([binary, "cron-list"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([binary, "agent", "hello"], env=env, check=True, stdout=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL)
    probe = os.path.join(home, "fsync-probe")
    times = []
    for _ in range(20):
        with open(probe, "wb") as f:
            f.write(b"x" * 100)
            start = time.perf_counter()
            os.fsync(f.fileno())
            times.append((time.perf_counter() - start) * 1000)
    print("  one fsync on this disk (median): %.2f ms" % statistics.median(times))
    for label, argv in [
        ("cron-add", [binary, "cron-add", "--name", "f", "--message", "m", "--cron", "@daily"]),
        ("cron-list", [binary, "cron-list"]),
        ("cron-run --once, nothing due", [binary, "cron-run", "--once"]),
        ("agent turn, logged", [binary, "agent", "hello"]),
    ]:
        before = " (stage one: 4)" if label == "cron-add" else ""
        print("  fsyncs per %s: %d%s" % (label, fsync_count(argv, env), before))
    shutil.rmtree(home, ignore_errors=True)


def delivery_figures(binary, base_url):
    """SPEC §7, third stage: what one delivery to a loopback target adds to a job's run (time
    and fsyncs, against the same job with no target), and what a --check that exits 1 costs
    over the check command itself (no provider request is made)."""
    home, env = new_home(base_url)
    # The stand-in server answers any POST with 200: a webhook that accepts at once.
    write_config(home, {"provider": {"base_url": base_url, "model": "bench"},
                        "targets": {"hook": {"webhook": base_url + "/hook"}}})
    for name, extra in [("plain", []), ("delivered", ["--to", "hook"]),
                        ("checked", ["--check", "exit 1"])]:
        run_quiet([binary, "cron-add", "--name", name, "--message", "hello", "--cron",
                   "0 0 1 1 *"] + extra, env)
    plain_ms, _ = measure([binary, "cron-fire", "plain"], env=env, runs=RUNS_TURN)
    delivered_ms, _ = measure([binary, "cron-fire", "delivered"], env=env, runs=RUNS_TURN)
    row("one delivery to a loopback webhook, added to a run", delivered_ms - plain_ms, 3.0, "ms",
        "run with the delivery %.2f ms, without %.2f ms" % (delivered_ms, plain_ms))
    # The fewest of three runs each: now and then a command folds the WAL (a few fsyncs).
    extra_fsyncs = (min(fsync_count([binary, "cron-fire", "delivered"], env) for _ in range(3))
                    - min(fsync_count([binary, "cron-fire", "plain"], env) for _ in range(3)))
    row("fsyncs a delivery adds to a run", extra_fsyncs, 1, "")
    check_ms, _ = measure([binary, "cron-fire", "checked"], env=env, runs=RUNS_TURN)
    # The launcher wants a command that succeeds: `sh -c true` costs what `sh -c 'exit 1'` does.
    sh_ms, _ = measure(["/bin/sh", "-c", "true"], runs=RUNS_TURN)
    row("--check exiting 1: time over the check itself", check_ms - sh_ms, 2.0, "ms",
        "quiet run %.2f ms, the check alone (`sh -c`) %.2f ms; no provider request"
        % (check_ms, sh_ms))
    shutil.rmtree(home, ignore_errors=True)


def memory_figures(binary, base_url):
    """One memory-set on a store of 10 000 keys, against the same locked
    read-modify-fsync-rename done by a minimal C program on the same disk."""
    home, env = new_home(base_url)
    baseline = build_helper("memory_baseline")
    keys = {"key%05d" % n: {"value": n, "note": "some text"} for n in range(10000)}
    path = os.path.join(home, "memory.json")
    runs = 30
    nanopy_times, baseline_times = [], []
    for n in range(runs):
        # Interleaved, so both see the same disk weather.
        with open(path, "w") as f:
            json.dump(keys, f)
        ms, _ = measure([binary, "memory-set", "new%d" % n, "value"], env=env, runs=1)
        nanopy_times.append(ms)
        with open(path, "w") as f:
            json.dump(keys, f)
        ms, _ = measure([baseline, home, "base%d" % n], runs=1)
        baseline_times.append(ms)
    nanopy_ms = statistics.median(nanopy_times)
    base_ms = statistics.median(baseline_times)
    row("10k keys: memory-set (median)", nanopy_ms, max(10.0, 1.2 * base_ms), "ms",
        "minimal locked write+fsync+rename %.2f ms, ratio %.2fx" % (base_ms, nanopy_ms / base_ms))
    shutil.rmtree(home, ignore_errors=True)


def log_figures(binary, base_url):
    """A turn continuing a 50-turn session against a plain (logged) turn; with 100 000 turns
    in the log, a turn's logging (against the same turn with the log off) and `log -n 20`."""
    home, env = new_home(base_url)
    for n in range(50):
        run_quiet([binary, "agent", "--session", "s", "question %d" % n], env)
    # Every measured turn would make the session longer: each run starts from a copy of the
    # 50-turn log, plain and session turns interleaved so both see the same machine.
    log = os.path.join(home, "log.sqlite")
    db = sqlite3.connect(log)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    template = log + ".template"
    shutil.copyfile(log, template)

    def restore():
        for suffix in ("-wal", "-shm"):
            if os.path.exists(log + suffix):
                os.unlink(log + suffix)
        shutil.copyfile(template, log)

    measure([binary, "agent", "hello"], env=env, runs=3)
    plain, session, session_rss = [], [], []
    for _ in range(40):
        restore()
        plain.append(measure([binary, "agent", "hello"], env=env, runs=1)[0])
        restore()
        ms, rss = measure([binary, "agent", "--session", "s", "hello"], env=env, runs=1)
        session.append(ms)
        session_rss.append(rss)
    plain_ms, session_ms = statistics.median(plain), statistics.median(session)
    row("turn continuing a 50-turn session: added", session_ms - plain_ms, 1.0, "ms",
        "plain logged turn %.2f ms, session turn %.2f ms, %.2f MB" %
        (plain_ms, session_ms, statistics.median(session_rss) / 1024))
    shutil.rmtree(home, ignore_errors=True)

    home, env = new_home(base_url)
    run_quiet([binary, "agent", "hello"], env)
    db = sqlite3.connect(os.path.join(home, "log.sqlite"))
    now = int(time.time())
    messages = json.dumps([{"role": "user", "content": "a question of some length"},
                           {"role": "assistant", "content": "an answer of some more length"}])
    db.executemany(
        "INSERT INTO turns (time, day, session, job, provider, model, message, messages, reply,"
        " tool_calls, prompt_tokens, completion_tokens, usage, duration_ms, outcome)"
        " VALUES (?, '2026-01-01', ?, NULL, 'default', 'bench', 'a question', ?, 'an answer',"
        " '[]', 20, 10, NULL, 5, 'ok')",
        ((now - 100000 + n, "s%d" % (n % 50) if n % 3 == 0 else None, messages)
         for n in range(100000)))
    db.commit()
    db.close()
    measure([binary, "agent", "hello"], env=env, runs=3)
    logged_ms, _ = measure([binary, "agent", "hello"], env=env, runs=RUNS_TURN)
    log_ms, _ = measure([binary, "log", "-n", "20"], env=env, runs=RUNS_TURN)
    write_config(home, {"provider": {"base_url": base_url, "model": "bench"},
                        "log": {"enabled": False}})
    unlogged_ms, _ = measure([binary, "agent", "hello"], env=env, runs=RUNS_TURN)
    row("100k-turn log: one turn's logging (median)", logged_ms - unlogged_ms, 2.0, "ms",
        "logged %.2f ms, log off %.2f ms" % (logged_ms, unlogged_ms))
    row("100k-turn log: `log -n 20` (median)", log_ms, 10.0, "ms")
    shutil.rmtree(home, ignore_errors=True)


FAKE_MCP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "mcp",
                        "fake_mcp.py")


def mcp_figures(binary, base_url, turn_ms, rtt_ms):
    """Three stdio MCP servers configured (their lists cached) and none called, against the
    plain turn; and a turn whose model calls one stdio tool, against the server alone
    answering the same requests (replayed from a file) plus the plain turn and the second
    model exchange."""
    home, env = new_home(base_url)
    starts = os.path.join(home, "starts")
    servers = {name: {"command": sys.executable, "args": [FAKE_MCP, "--started", starts]}
               for name in ("one", "two", "three")}
    write_config(home, {"provider": {"base_url": base_url, "model": "bench"}, "mcp": servers})
    run_quiet([binary, "tools"], env)
    with open(starts) as f:
        listed = len(f.readlines())
    measure([binary, "agent", "hello"], env=env, runs=3)
    idle_ms, _ = measure([binary, "agent", "hello"], env=env, runs=RUNS_TURN)
    with open(starts) as f:
        started = len(f.readlines()) - listed
    row("3 MCP servers configured, none called: added", idle_ms - turn_ms, 1.0, "ms",
        "turn %.2f ms, plain turn %.2f ms, servers started: %d" % (idle_ms, turn_ms, started))
    shutil.rmtree(home, ignore_errors=True)

    calling_url = fake_openai.start(fake_openai.tool_call_response("bench__echo", {"text": "x"}))
    home, env = new_home(calling_url)
    record = os.path.join(home, "record.jsonl")
    write_config(home, {"provider": {"base_url": calling_url, "model": "bench"},
                        "mcp": {"bench": {"command": sys.executable,
                                          "args": [FAKE_MCP, "--record", record]}}})
    run_quiet([binary, "tools"], env)
    os.unlink(record)
    run_quiet([binary, "agent", "hello"], env)
    requests = os.path.join(home, "requests.jsonl")
    with open(record) as f, open(requests, "w") as out:
        for line in f:
            out.write(json.dumps(json.loads(line)["message"]) + "\n")
    server_ms, _ = measure(["/bin/sh", "-c", 'exec "$0" "$1" < "$2" > /dev/null',
                            sys.executable, FAKE_MCP, requests], runs=RUNS_TURN // 2)
    write_config(home, {"provider": {"base_url": calling_url, "model": "bench"},
                        "mcp": {"bench": {"command": sys.executable, "args": [FAKE_MCP]}}})
    run_quiet([binary, "tools"], env)
    # (The launcher's peak RSS here would be the Python server's: wait4 reports the largest
    # process of the tree.)
    call_ms, _ = measure([binary, "agent", "hello"], env=env, runs=RUNS_TURN // 2)
    row("turn calling one stdio MCP tool: added", call_ms - turn_ms - rtt_ms - server_ms, 5.0,
        "ms", "turn %.2f ms = plain turn %.2f + exchange %.2f + server alone %.2f + added"
        % (call_ms, turn_ms, rtt_ms, server_ms))
    shutil.rmtree(home, ignore_errors=True)


def main():
    global LAUNCHER
    LAUNCHER = build_helper("measure")
    binary = os.path.abspath(sys.argv[1])
    print("binary: %s" % binary)
    print()
    size_mb = os.path.getsize(binary) / 1e6
    row("stripped binary size", size_mb, 3.0, "MB")
    # The other static targets, when built (`make pi pi32 pi-zero`): size only, the same budget.
    for other in sys.argv[2:]:
        target = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(other))))
        row("stripped binary size, %s" % target, os.path.getsize(other) / 1e6, 3.0, "MB")

    true_ms, true_rss = measure(["/bin/true"], runs=RUNS_STARTUP)
    ver_ms, ver_rss = measure([binary, "--version"], runs=RUNS_STARTUP)
    row("--version wall time (median)", ver_ms, 1.0, "ms",
        "/bin/true %.2f ms, ratio %.2fx" % (true_ms, ver_ms / true_ms))
    row("--version peak RSS (median)", ver_rss / 1024, 1.5, "MB",
        "/bin/true %.2f MB" % (true_rss / 1024))

    base_url = fake_openai.start()
    home = tempfile.mkdtemp(prefix="nanopy-bench-")
    write_config(home, {"provider": {"base_url": base_url, "model": "bench"}})
    env = dict(os.environ, NANOPYBOT_HOME=home)
    body = json.dumps({"model": "bench", "messages": [
        {"role": "system", "content": "You are nanopybot, a concise and helpful assistant."},
        {"role": "user", "content": "hello"}]})
    curl = shutil.which("curl")
    if curl is None:
        sys.exit("curl is needed as the agent-turn baseline: apt-get install curl")
    curl_ms, curl_rss = measure([curl, "-s", "-o", "/dev/null", "-H", "Content-Type: application/json",
                                 "-d", body, base_url + "/chat/completions"], runs=RUNS_TURN)
    rtt_ms = server_round_trip(base_url, body, RUNS_TURN)
    # Warm the data directory (config, memory) so the turn measures the steady state.
    measure([binary, "agent", "hello"], env=env, runs=3)
    turn_ms, turn_rss = measure([binary, "agent", "hello"], env=env, runs=RUNS_TURN)
    # The same turn with the log turned off: what recording a turn costs.
    quiet_home, quiet_env = new_home(base_url)
    write_config(quiet_home, {"provider": {"base_url": base_url, "model": "bench"},
                              "log": {"enabled": False}})
    measure([binary, "agent", "hello"], env=quiet_env, runs=3)
    unlogged_ms, unlogged_rss = measure([binary, "agent", "hello"], env=quiet_env,
                                        runs=RUNS_TURN)
    shutil.rmtree(quiet_home, ignore_errors=True)
    row("agent turn, logged: time added over the server", turn_ms - rtt_ms, 1.0, "ms",
        "bare exchange %.2f ms, nanopy %.2f ms, curl %.2f ms; nanopy/curl %.2fx; "
        "unlogged turn %.2f ms added" % (rtt_ms, turn_ms, curl_ms, turn_ms / curl_ms,
                                         unlogged_ms - rtt_ms))
    row("agent turn, logged: peak RSS (median)", turn_rss / 1024, 2.2, "MB",
        "curl %.2f MB, unlogged turn %.2f MB" % (curl_rss / 1024, unlogged_rss / 1024))
    shutil.rmtree(home, ignore_errors=True)

    # A dead primary (a closed port) with the stand-in server as fallback: what the dead
    # one costs before the fallback's request goes out.
    home, env = new_home(base_url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    write_config(home, {"provider": {"base_url": "http://127.0.0.1:%d/v1" % dead_port,
                                     "model": "bench"},
                        "providers": {"up": {"base_url": base_url, "model": "bench"}},
                        "fallback": ["up"]})
    measure([binary, "agent", "hello"], env=env, runs=3)
    chain_ms, _ = measure([binary, "agent", "hello"], env=env, runs=RUNS_TURN)
    row("dead primary: added before the fallback's request", chain_ms - turn_ms, 50.0, "ms",
        "turn through the fallback %.2f ms, plain turn %.2f ms" % (chain_ms, turn_ms))
    shutil.rmtree(home, ignore_errors=True)

    mcp_figures(binary, base_url, turn_ms, rtt_ms)
    log_figures(binary, base_url)
    scheduler_figures(binary, base_url)
    fsync_figures(binary, base_url)
    delivery_figures(binary, base_url)
    memory_figures(binary, base_url)
    print()
    print("Budgets hold for the static musl build; a glibc build carries ~1 MB more RSS (SPEC §7).")


if __name__ == "__main__":
    main()
