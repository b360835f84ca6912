#!/usr/bin/env python3
"""The client command the MCP conformance suite runs: `mcp_conformance_client.py URL`.

It acts as a tools-only client would: nanopy lists the server's tools (`tools --refresh`),
then calls each one through `tool:` with arguments made from its parameter list (numbers
1, 2, …; strings "test"; booleans true). NANOPY_BIN names the binary; the scenario name is
in MCP_CONFORMANCE_SCENARIO (only printed).
"""

import json
import os
import re
import subprocess
import sys
import tempfile


def main():
    url = sys.argv[-1]
    binary = os.environ["NANOPY_BIN"]
    home = tempfile.mkdtemp(prefix="nanopy-conformance-")
    os.chmod(home, 0o700)
    config = {"provider": {"base_url": "http://127.0.0.1:9/v1"},
              "mcp": {"conf": {"url": url, "startup_timeout_secs": 10, "tool_timeout_secs": 10}}}
    path = os.path.join(home, "config.json")
    with open(path, "w") as f:
        json.dump(config, f)
    os.chmod(path, 0o600)
    env = dict(os.environ, NANOPYBOT_HOME=home)
    print("scenario:", os.environ.get("MCP_CONFORMANCE_SCENARIO"), file=sys.stderr)
    listing = subprocess.run([binary, "tools", "--refresh"], env=env, capture_output=True, text=True)
    sys.stderr.write(listing.stderr)
    tools = []
    for line in listing.stdout.splitlines():
        match = re.match(r"^(conf__\S+) — ", line)
        if match:
            tools.append((match.group(1), []))
            continue
        param = re.match(r"^    (\S+) \((\w+), (required|optional)\)", line)
        if param and tools:
            tools[-1][1].append((param.group(1), param.group(2)))
    failed = listing.returncode != 0
    for name, params in tools:
        arguments = {}
        for n, (pname, kind) in enumerate(params, start=1):
            arguments[pname] = {"integer": n, "number": n, "boolean": True}.get(kind, "test")
        # --no-stdin: the suite leaves our stdin open, and a piped stdin is a turn's input.
        call = subprocess.run([binary, "agent", "--no-stdin", "tool:%s %s" % (name, json.dumps(arguments))],
                              env=env, capture_output=True, text=True)
        print(call.stdout.strip())
        sys.stderr.write(call.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
