"""`make test-compat`: nanopy against a real LiteLLM proxy (installed from PyPI, models mocked).

Checks what differs between servers in practice: response shapes with extra fields, streaming
chunks, tool-call rounds with `role: tool` messages, auth and model errors.
Usage: test_litellm.py NANOPY_BINARY LITELLM_EXECUTABLE
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

from harness import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
MASTER_KEY = "sk-nanopy-compat-master"


def start_proxy(litellm, port):
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_MASTER_KEY=MASTER_KEY,
               NO_PROXY="127.0.0.1,localhost")
    log = open(os.path.join(tempfile.gettempdir(), "nanopy-litellm.log"), "w")
    proc = subprocess.Popen([litellm, "--config", os.path.join(HERE, "litellm.yaml"),
                             "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("litellm exited early; see %s" % log.name)
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/health/liveliness" % port, timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    sys.exit("litellm did not start within 120 s; see %s" % log.name)


def main():
    binary, litellm = os.path.abspath(sys.argv[1]), sys.argv[2]
    port = free_port()
    proxy = start_proxy(litellm, port)
    home = tempfile.mkdtemp(prefix="nanopy-compat-")
    env = dict(os.environ, NANOPYBOT_HOME=home,
               NANOPY_BASE_URL="http://127.0.0.1:%d/v1" % port, NANOPY_API_KEY=MASTER_KEY)
    passed, failed = 0, 0

    def nanopy(*args, model="mock-text", key=None):
        run_env = dict(env, NANOPY_MODEL=model)
        if key is not None:
            run_env["NANOPY_API_KEY"] = key
        return subprocess.run([binary] + list(args), env=run_env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)

    def check(name, condition, result):
        nonlocal passed, failed
        if condition:
            passed += 1
            print("ok   %s" % name)
        else:
            failed += 1
            print("FAIL %s\n  exit %s\n  stdout %r\n  stderr %r"
                  % (name, result.returncode, result.stdout, result.stderr))

    try:
        r = nanopy("agent", "hello")
        check("plain turn prints the reply", r.returncode == 0 and r.stdout == "Hello from LiteLLM\n", r)

        r = nanopy("agent", "--stream", "hello")
        check("streamed turn prints the reply", r.returncode == 0 and r.stdout == "Hello from LiteLLM\n", r)

        r = nanopy("agent", "--json", "from now on answer in English")
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        check("--json carries reply, rule, model and usage",
              doc.get("reply") == "Hello from LiteLLM"
              and doc.get("rule_learned") == "from now on answer in English"
              and doc.get("model") == "mock-text" and doc.get("usage", {}).get("total_tokens"), r)

        r = nanopy("agent", "--json", "what time is it", model="mock-tools")
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        calls = doc.get("tool_calls", [])
        check("tool rounds with role:tool results are accepted, capped at 8",
              len(calls) == 8 and all(c["name"] == "time" and c["result"].isdigit() for c in calls)
              and doc.get("reply"), r)

        r = nanopy("agent", "--session", "s", "what time is it", model="mock-tools")
        r = nanopy("agent", "--json", "--session", "s", "and what did you tell me?")
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        check("a session with tool calls in its history is accepted when continued",
              doc.get("reply") == "Hello from LiteLLM" and doc.get("session") == "s", r)

        # LiteLLM as the fallback behind a dead primary, with its key from api_key_env.
        chain_home = tempfile.mkdtemp(prefix="nanopy-compat-chain-")
        with open(os.path.join(chain_home, "config.json"), "w") as f:
            json.dump({"provider": {"base_url": "http://127.0.0.1:%d/v1" % free_port(),
                                    "model": "local", "max_retries": 0},
                       "providers": {"litellm": {"base_url": "http://127.0.0.1:%d/v1" % port,
                                                 "api_key_env": "LITELLM_KEY",
                                                 "model": "mock-text"}},
                       "fallback": ["litellm"]}, f)
        chain_env = dict(os.environ, NANOPYBOT_HOME=chain_home, LITELLM_KEY=MASTER_KEY)
        r = subprocess.run([binary, "agent", "--json", "hello"], env=chain_env, capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        check("a dead primary falls over to LiteLLM with its own key",
              doc.get("reply") == "Hello from LiteLLM" and doc.get("provider") == "litellm"
              and "trying `litellm`" in r.stderr and MASTER_KEY not in r.stderr, r)

        r = nanopy("agent", "hello", model="no-such-model")
        check("unknown model exits 4 with the server's message",
              r.returncode == 4 and "Invalid model name" in r.stderr, r)

        r = nanopy("agent", "hello", key="sk-wrong-key")
        check("a rejected key exits 4 and is never shown",
              r.returncode == 4 and "sk-wrong-key" not in r.stderr + r.stdout, r)
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)

    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
