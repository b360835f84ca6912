#!/usr/bin/env python3
"""The client command the MCP conformance suite runs: `mcp_conformance_client.py URL`.

It acts as a tools-only client would: nanopy lists the server's tools (`tools --refresh`),
then calls them through `tool:`. When the scenario says which calls to make (`toolCalls` in
MCP_CONFORMANCE_CONTEXT), those are made with its arguments; otherwise every listed tool is
called with arguments made from its required parameters (numbers 1, 2, …; strings "test";
booleans true). `json_schema_echo` is handed back the input schema nanopy keeps for the
scenario's focal tool (from its tool cache, which is what the model is offered), so the
scenario can see what survived. NANOPY_BIN names the binary.
"""

import json
import os
import re
import subprocess
import sys
import tempfile


def made_up_arguments(name, params, home):
    if name == "conf__json_schema_echo":
        return {"schema": cached_schema(home, "json_schema_2020_12_tool")}
    arguments = {}
    for n, (pname, kind, need) in enumerate(params, start=1):
        if need != "required":
            continue
        arguments[pname] = {"integer": n, "number": n, "boolean": True}.get(kind, "test")
    return arguments


def cached_schema(home, tool):
    for directory, _, files in os.walk(home):
        if "mcp-tools.json" in files:
            with open(os.path.join(directory, "mcp-tools.json")) as f:
                cache = json.load(f)
            for entry in cache["servers"].values():
                for listed in entry["tools"]:
                    if listed["name"] == tool:
                        return listed["inputSchema"]
    return {}


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
            tools[-1][1].append(param.groups())
    failed = listing.returncode != 0
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    if context.get("toolCalls"):
        calls = [("conf__" + c["name"], c.get("arguments", {})) for c in context["toolCalls"]]
    else:
        calls = [(name, made_up_arguments(name, params, home)) for name, params in tools]
    for name, arguments in calls:
        # --no-stdin: the suite leaves our stdin open, and a piped stdin is a turn's input.
        call = subprocess.run([binary, "agent", "--no-stdin", "tool:%s %s" % (name, json.dumps(arguments))],
                              env=env, capture_output=True, text=True)
        print(call.stdout.strip())
        sys.stderr.write(call.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
