"""`make bench`: the SPEC §7 figures for a release binary, as medians, each with a baseline
measured in the same run (`/bin/true` for start-up, `curl` for a turn against the same server).

Each command runs under bench/measure.c, a tiny static launcher that reports the child's own
wall time and peak RSS (wait4's rusage). Run on an otherwise quiet machine; the
figures are for reading, not for asserting in tests.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import fake_openai  # noqa: E402

RUNS_STARTUP = 200
RUNS_TURN = 100


def build_launcher():
    """Compiles measure.c (a tiny static launcher) next to the Cargo target directory."""
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "target", "measure")
    source = os.path.join(here, "measure.c")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(source):
        subprocess.run(["cc", "-O2", "-static", "-o", out, source], check=True)
    return out


LAUNCHER = None


def measure(argv, env=None, runs=50):
    """Median wall time (ms) and median peak RSS (KiB) of running argv `runs` times."""
    result = subprocess.run([LAUNCHER, str(runs)] + argv, env=env,
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


def main():
    global LAUNCHER
    LAUNCHER = build_launcher()
    binary = os.path.abspath(sys.argv[1])
    print("binary: %s" % binary)
    print()
    size_mb = os.path.getsize(binary) / 1e6
    row("stripped binary size", size_mb, 3.0, "MB")

    true_ms, true_rss = measure(["/bin/true"], runs=RUNS_STARTUP)
    ver_ms, ver_rss = measure([binary, "--version"], runs=RUNS_STARTUP)
    row("--version wall time (median)", ver_ms, 1.0, "ms",
        "/bin/true %.2f ms, ratio %.2fx" % (true_ms, ver_ms / true_ms))
    row("--version peak RSS (median)", ver_rss / 1024, 1.5, "MB",
        "/bin/true %.2f MB" % (true_rss / 1024))

    base_url = fake_openai.start()
    home = tempfile.mkdtemp(prefix="nanopy-bench-")
    with open(os.path.join(home, "config.json"), "w") as f:
        json.dump({"provider": {"base_url": base_url, "model": "bench"}}, f)
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
    row("agent turn: time added over the server (median)", turn_ms - rtt_ms, 3.0, "ms",
        "bare exchange %.2f ms, nanopy %.2f ms, curl %.2f ms; nanopy/curl %.2fx"
        % (rtt_ms, turn_ms, curl_ms, turn_ms / curl_ms))
    row("agent turn: peak RSS (median)", turn_rss / 1024, 4.0, "MB",
        "curl %.2f MB" % (curl_rss / 1024))
    shutil.rmtree(home, ignore_errors=True)
    print()
    print("Budgets hold for the static musl build; a glibc build carries ~1 MB more RSS (SPEC §7).")


if __name__ == "__main__":
    main()
