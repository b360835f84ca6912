"""`make test-compat`, --schema: the JSON Schema nanopy makes of llm's concise form is the one
`llm` itself makes (the llm package from PyPI), for --schema and --schema-multi.
Usage: test_llm_schema.py NANOPY_BINARY PYTHON_WITH_LLM
"""

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

from harness import Checks

CASES = [
    "name, age int, bio: one line about them",
    "title\nscore float: between 0 and 1, inclusive\ndone bool",
    "  a ,b str, c int: count ",
    "city: the city's name",
]

captured = []


class Server(http.server.BaseHTTPRequestHandler):
    """Records each request's response_format and answers with a document that fits it."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        captured.append(body["response_format"]["json_schema"]["schema"])
        answer = json.dumps({"choices": [{"message": {"role": "assistant", "content":
                                                      json.dumps(fill(captured[-1]))}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, *args):
        pass


def fill(schema):
    kind = schema.get("type")
    if kind == "object":
        return {name: fill(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [fill(schema["items"])]
    return {"string": "x", "integer": 1, "number": 0.5, "boolean": True}.get(kind)


def loosen(schema):
    """The schema without the additionalProperties: false strict mode adds in the request."""
    if isinstance(schema, dict):
        return {key: loosen(value) for key, value in schema.items()
                if not (key == "additionalProperties" and value is False)}
    if isinstance(schema, list):
        return [loosen(item) for item in schema]
    return schema


def main():
    binary, python = os.path.abspath(sys.argv[1]), sys.argv[2]
    server = http.server.HTTPServer(("127.0.0.1", 0), Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = tempfile.mkdtemp(prefix="nanopy-llm-schema-")
    with open(os.path.join(home, "config.json"), "w") as f:
        json.dump({"provider": {"base_url": "http://127.0.0.1:%d/v1" % server.server_port,
                                "model": "m", "max_retries": 0}}, f)
    env = dict(os.environ, NANOPYBOT_HOME=home)
    checks = Checks()
    for case in CASES:
        for multi in (False, True):
            expected = json.loads(subprocess.run(
                [python, "-c", "import json, sys; from llm.utils import schema_dsl; "
                 "print(json.dumps(schema_dsl(sys.argv[1], multi=sys.argv[2] == '1')))",
                 case, "1" if multi else "0"], capture_output=True, text=True, check=True).stdout)
            flag = "--schema-multi" if multi else "--schema"
            run = subprocess.run([binary, "agent", "--no-tools", flag, case, "go"], env=env,
                                 capture_output=True, text=True)
            ok = run.returncode == 0 and loosen(captured[-1]) == expected
            checks.check("%s %r matches llm" % (flag, case), ok, "\n  nanopy: %s\n  llm:    %s\n  %s" % (
                json.dumps(loosen(captured[-1]) if captured else None), json.dumps(expected),
                run.stderr))
    checks.finish()


if __name__ == "__main__":
    main()
