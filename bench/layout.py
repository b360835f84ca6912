"""Hot code first: the order in which the static binaries lay out their functions.

A short-lived process pays in RSS for every page of the binary it touches, and the kernel maps
file pages 64 KB at a time around each fault ("fault-around"). Left to the linker, the code a
turn runs is spread over the whole text segment, so nearly all of it ends up resident. Ordering
the functions a turn runs first packs them together.

  layout.py trace BINARY OUT   Runs the common commands (a logged agent turn against a stand-in
                               server, --version, memory and scheduler commands) of an unstripped
                               BINARY under valgrind's lackey, and writes the functions they ran,
                               in first-run order, as demangled names without LLVM's `.NNN`
                               suffixes (which shift from one link to the next).
  layout.py map LIST BINARY OUT
                               Writes OUT, an lld --symbol-ordering-file for this build: every
                               symbol of the unstripped BINARY whose demangled name is on LIST, in
                               LIST's order. Writes OUT only when it changes; exit status 10 says
                               it changed (so the caller relinks), 0 that it did not.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))

SUFFIX = re.compile(r"\.(llvm\.)?\d+$")


def symbols(binary):
    """(address, mangled name, demangled name without suffix) of every function, by address."""
    mangled = subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True,
                             text=True, check=True).stdout.splitlines()
    demangled = subprocess.run(["nm", "-n", "--defined-only", "--demangle=rust", binary],
                               capture_output=True, text=True, check=True).stdout.splitlines()
    found = []
    for raw, nice in zip(mangled, demangled):
        address, kind, name = raw.split(None, 2)
        if kind.lower() != "t":
            continue
        found.append((int(address, 16), name, SUFFIX.sub("", nice.split(None, 2)[2])))
    return found


def trace(binary, out):
    import bisect
    import fake_openai
    base_url = fake_openai.start()
    home = tempfile.mkdtemp(prefix="nanopy-layout-")
    with open(os.path.join(home, "config.json"), "w") as f:
        f.write('{"provider": {"base_url": "%s", "model": "m"}}' % base_url)
    env = dict(os.environ, NANOPYBOT_HOME=home)
    # A log with some history, as a user's has: a turn on a fresh log runs other code (the
    # schema's creation, a one-page table) than every later turn (interior pages, splits).
    for _ in range(60):
        subprocess.run([binary, "agent", "hello"], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, check=True)
    commands = [["agent", "hello"], ["agent", "hello"], ["--version"],
                ["memory-set", "k", "v"], ["memory-get", "k"],
                ["cron-add", "--name", "j", "--message", "m", "--cron", "0 7 * * *"],
                ["cron-list"], ["cron-run", "--once"], ["log", "-n", "5"]]
    table = symbols(binary)
    starts = [address for address, _, _ in table]
    order, seen = [], set()
    for command in commands:
        log = os.path.join(home, "lackey.txt")
        subprocess.run(["valgrind", "--tool=lackey", "--trace-mem=yes", "--log-file=" + log,
                        binary] + command, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        with open(log) as f:
            for line in f:
                if not line.startswith("I "):
                    continue
                address = int(line[3:].split(",")[0], 16)
                at = bisect.bisect_right(starts, address) - 1
                if at >= 0:
                    name = table[at][2]
                    if name not in seen:
                        seen.add(name)
                        order.append(name)
    shutil.rmtree(home, ignore_errors=True)
    with open(out, "w") as f:
        f.write("\n".join(order) + "\n")
    print("%d functions written to %s" % (len(order), out))


def map_list(listing, binary, out):
    with open(listing) as f:
        wanted = [line.rstrip("\n") for line in f if line.strip()]
    by_name = {}
    for _, mangled, name in symbols(binary):
        by_name.setdefault(name, []).append(mangled)
    lines = [mangled for name in wanted for mangled in by_name.get(name, [])]
    text = "\n".join(lines) + "\n"
    old = open(out).read() if os.path.exists(out) else None
    if text == old:
        return 0
    with open(out, "w") as f:
        f.write(text)
    print("layout: %d of %d hot functions found in %s" % (
        sum(1 for name in wanted if name in by_name), len(wanted), binary))
    return 10


if __name__ == "__main__":
    if sys.argv[1:2] == ["trace"] and len(sys.argv) == 4:
        trace(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["map"] and len(sys.argv) == 5:
        sys.exit(map_list(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        sys.exit(__doc__)
