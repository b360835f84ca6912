"""`make run` without ARGS: a tour of nanopy against a local stand-in server, in a throwaway
data directory, so a newcomer sees it work before configuring a real provider."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import fake_openai  # noqa: E402


def main():
    binary = os.path.abspath(sys.argv[1])
    base_url = fake_openai.start()
    home = tempfile.mkdtemp(prefix="nanopy-demo-")
    with open(os.path.join(home, "config.json"), "w") as f:
        json.dump({"provider": {"base_url": base_url, "model": "local-stand-in"}}, f)
    env = dict(os.environ, NANOPYBOT_HOME=home)
    steps = [
        ["agent", "Hello! Who are you?"],
        ["agent", "from now on answer in English"],
        ["rules"],
        ["agent", "tool:time"],
        ["memory-set", "city", "Bogor"],
        ["memory-get", "city"],
        ["cron-add", "--name", "morning", "--message", "Good morning summary",
         "--cron", "0 7 * * MON-FRI", "--tz", "Asia/Jakarta"],
        ["cron-next", "0 7 * * MON-FRI", "-n", "3", "--tz", "Asia/Jakarta"],
        ["cron-list"],
    ]
    for step in steps:
        print("$ nanopy " + " ".join(repr(a) if " " in a else a for a in step), flush=True)
        result = subprocess.run([binary] + step, env=env, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            sys.exit(result.returncode)
    print("\nDemo data directory: %s (delete it when done)." % home)
    print("Next: point nanopy at a real provider (README.md, \"Configure a provider\").")


if __name__ == "__main__":
    main()
