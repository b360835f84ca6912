#!/usr/bin/env python3
"""A scripted MCP server for nanopy's tests: stdio (default) or Streamable HTTP (--http).

Era: --era modern (server/discover, _meta, resultType), legacy (initialize only; anything
before it is "method not found"), or dual (both). Faults: --fault NAME, see FAULTS. Every
message received is appended as one JSON line to --record FILE (HTTP: with its headers), and
--started FILE gets one line per start, so tests can count starts and see what was sent.

Tools: echo(text), add(a, b), fail (isError), picture (image content), ask (needs the
client: elicitation via input_required when modern, an elicitation/create request when
legacy), slow (sleeps 30 s).
"""

import argparse
import json
import os
import subprocess
import sys
import time

FAULTS = [
    "none",
    "exit-at-start",     # exits 3 before reading anything
    "hang-start",        # reads requests but never answers any
    "hang-call",         # answers everything but tools/call
    "exit-mid-call",     # exits when a tools/call arrives
    "not-json",          # prints a log line on stdout before its answers
    "flood",             # answers tools/call with a line over 4 MiB
    "wrong-id",          # answers tools/call with another id
    "ping-first",        # sends a ping and a roots/list request before answering tools/call
    "grandchild",        # starts a sleeping grandchild that ignores stdin
    "list-changed",      # a call adds the tool `extra`, announced before the call's answer
    "list-changed-late", # the same, announced after the call's answer
    "stale",             # tools/call of anything answers -32602 unknown tool
]

MODERN = "2026-07-28"
TOOLS = [
    {"name": "echo", "description": "Echoes its text.",
     "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}},
    {"name": "add", "description": "Adds two integers.",
     "inputSchema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}},
    {"name": "fail", "description": "Always fails.", "inputSchema": {"type": "object"}},
    {"name": "picture", "description": "Returns a picture.", "inputSchema": {"type": "object"}},
    {"name": "ask", "description": "Asks the user something.", "inputSchema": {"type": "object"}},
    {"name": "slow", "description": "Takes 30 seconds.", "inputSchema": {"type": "object"}},
]


class Server:
    def __init__(self, args, send):
        self.args = args
        self.send = send
        self.initialized = False
        self.pending_ask = None
        self.added = []

    def record(self, message, headers=None):
        if self.args.record:
            entry = {"message": message}
            if headers is not None:
                entry["headers"] = headers
            with open(self.args.record, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def reply(self, request, result=None, error=None):
        message = {"jsonrpc": "2.0", "id": request.get("id")}
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result
        self.send(message)

    def modern_request(self, params):
        meta = (params or {}).get("_meta") or {}
        return meta.get("io.modelcontextprotocol/protocolVersion")

    def handle(self, message):
        """Handles one message; returns nothing (answers go through send)."""
        era = self.args.era
        fault = self.args.fault
        if "method" not in message:
            # An answer to something we asked (legacy ask / ping-first).
            if self.pending_ask is not None and message.get("id") == "ask-1":
                request = self.pending_ask
                self.pending_ask = None
                action = (message.get("result") or {}).get("action", "error: %s" % message.get("error"))
                self.reply(request, {"content": [{"type": "text", "text": "user said: %s" % action}]})
            return
        method = message["method"]
        params = message.get("params") or {}
        if "id" not in message:
            if method == "notifications/initialized":
                self.initialized = True
            return
        if fault == "hang-start":
            return
        version = self.modern_request(params)
        if method == "server/discover":
            if era == "legacy":
                return self.reply(message, error={"code": -32601, "message": "Method not found"})
            if version != MODERN:
                return self.reply(message, error={"code": -32022, "message": "Unsupported protocol version",
                                                  "data": {"supported": [MODERN], "requested": version}})
            return self.reply(message, {"resultType": "complete", "supportedVersions": [MODERN],
                                        "capabilities": {"tools": {"listChanged": True}},
                                        "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "fake", "version": "1"}}})
        if method == "initialize":
            if era == "modern":
                return self.reply(message, error={"code": -32601, "message": "initialize is not supported; use 2026-07-28"})
            return self.reply(message, {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                                        "serverInfo": {"name": "fake", "version": "1"}})
        modern = version == MODERN and era in ("modern", "dual")
        if not modern and not self.initialized:
            return self.reply(message, error={"code": -32600, "message": "not initialized"})
        if modern and era == "legacy":
            return self.reply(message, error={"code": -32600, "message": "not initialized"})
        done = {"resultType": "complete"} if modern else {}
        if method == "tools/list":
            page = self.args.page_size
            start = int(params.get("cursor") or 0)
            tools = TOOLS + self.added
            result = dict(done, tools=tools[start:start + page])
            if start + page < len(tools):
                result["nextCursor"] = str(start + page)
            return self.reply(message, result)
        if method == "ping":
            return self.reply(message, {})
        if method != "tools/call":
            return self.reply(message, error={"code": -32601, "message": "Method not found"})
        name = params.get("name")
        arguments = params.get("arguments") or {}
        if fault == "hang-call":
            return
        if fault == "exit-mid-call":
            os._exit(5)
        if fault == "flood":
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": {"content": [{"type": "text", "text": "x" * (5 * 1024 * 1024)}]}})
            return
        if fault == "wrong-id":
            self.send({"jsonrpc": "2.0", "id": 999999, "result": {"content": []}})
            return
        if fault == "stale":
            return self.reply(message, error={"code": -32602, "message": "Unknown tool: %s" % name})
        if fault == "ping-first":
            self.send({"jsonrpc": "2.0", "id": "p-1", "method": "ping"})
            self.send({"jsonrpc": "2.0", "id": "r-1", "method": "roots/list"})
        if fault.startswith("list-changed") and not self.added:
            self.added.append({"name": "extra", "description": "Added by a call.",
                               "inputSchema": {"type": "object"}})
            if fault == "list-changed":
                self.send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        text = None
        if name == "echo":
            text = str(arguments.get("text"))
        elif name == "add":
            text = str(int(arguments.get("a", 0)) + int(arguments.get("b", 0)))
        elif name == "fail":
            return self.reply(message, dict(done, isError=True, content=[{"type": "text", "text": "it broke"}]))
        elif name == "picture":
            return self.reply(message, dict(done, content=[{"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="}]))
        elif name == "slow":
            time.sleep(30)
            text = "slept"
        elif name == "ask":
            if modern:
                answers = params.get("inputResponses")
                if not answers:
                    return self.reply(message, {"resultType": "input_required", "requestState": "st-1",
                                                "inputRequests": {"q1": {"method": "elicitation/create",
                                                                         "params": {"message": "Sure?", "requestedSchema": {"type": "object", "properties": {}}}}}})
                text = "user said: %s (state %s)" % (answers["q1"].get("action"), params.get("requestState"))
            else:
                self.pending_ask = message
                self.send({"jsonrpc": "2.0", "id": "ask-1", "method": "elicitation/create",
                           "params": {"message": "Sure?", "requestedSchema": {"type": "object", "properties": {}}}})
                return
        else:
            return self.reply(message, error={"code": -32602, "message": "Unknown tool: %s" % name})
        self.reply(message, dict(done, content=[{"type": "text", "text": text}]))
        if fault == "list-changed-late":
            self.send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})


def started(args):
    if args.started:
        with open(args.started, "a") as f:
            f.write("%d\n" % os.getpid())


def run_stdio(args):
    started(args)
    if args.fault == "exit-at-start":
        print("fake: giving up at start", file=sys.stderr, flush=True)
        sys.exit(3)
    if args.fault == "grandchild":
        child = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)
        if args.grandchild_pid:
            with open(args.grandchild_pid, "w") as f:
                f.write(str(child.pid))
    print("fake: ready", file=sys.stderr, flush=True)
    if args.fault == "not-json":
        print("Server listening on stdio", flush=True)

    def send(message):
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    server = Server(args, send)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        message = json.loads(line)
        server.record(message)
        server.handle(message)


def run_http(args):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def do_DELETE(self):
            server.record({"delete": True}, dict(self.headers))
            self.send_response(200)
            self.end_headers()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            message = json.loads(body)
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.record(message, headers)
            out = []
            server.send = out.append
            version = server.modern_request(message.get("params"))
            is_modern = version == MODERN and args.era in ("modern", "dual")
            if args.era == "legacy" and message.get("method") != "initialize" and "mcp-session-id" not in headers:
                self.send_response(400)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"Bad Request: No valid session ID provided")
                return
            if is_modern and headers.get("mcp-protocol-version") != version:
                out.append({"jsonrpc": "2.0", "id": message.get("id"), "error": {"code": -32020, "message": "header mismatch"}})
                status = 400
            else:
                server.handle(message)
                status = 200
                if out and "error" in out[-1] and out[-1]["error"]["code"] == -32022:
                    status = 400
            if "id" not in message or message.get("method") is None:
                self.send_response(202)
                self.end_headers()
                return
            self.send_response(status)
            if message.get("method") == "initialize":
                self.send_header("Mcp-Session-Id", "sess-42")
            if args.sse:
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for item in out:
                    self.wfile.write(("event: message\ndata: %s\n\n" % json.dumps(item)).encode())
            else:
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(out[-1] if out else {}).encode())

    server = Server(args, None)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--era", choices=["modern", "legacy", "dual"], default="dual")
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--record")
    parser.add_argument("--started")
    parser.add_argument("--grandchild-pid")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--sse", action="store_true")
    args = parser.parse_args()
    if args.http:
        run_http(args)
    else:
        run_stdio(args)


if __name__ == "__main__":
    main()
