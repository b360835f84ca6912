#!/usr/bin/env python3
"""Runs a stdio MCP server behind a filter that hides its 2026-07-28 side: `server/discover`
is answered "method not found", as a server of the legacy era answers it, and every other
line passes through unchanged. So one real server (mcp-server-time speaks both eras) can be
driven through nanopy's legacy `initialize` path too. Usage: mcp_legacy_only.py COMMAND [ARG…]
"""

import json
import subprocess
import sys
import threading


def main():
    server = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    lock = threading.Lock()

    def write_out(line):
        with lock:
            sys.stdout.buffer.write(line)
            sys.stdout.buffer.flush()

    def pump_server():
        for line in server.stdout:
            write_out(line)

    threading.Thread(target=pump_server, daemon=True).start()
    for line in sys.stdin.buffer:
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("method") == "server/discover":
            answer = {"jsonrpc": "2.0", "id": message.get("id"),
                      "error": {"code": -32601, "message": "Method not found"}}
            write_out(json.dumps(answer).encode() + b"\n")
            continue
        server.stdin.write(line)
        server.stdin.flush()
    server.stdin.close()
    server.wait()


if __name__ == "__main__":
    main()
