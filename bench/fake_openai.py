"""A minimal OpenAI-compatible stand-in server on 127.0.0.1 for the demo and the benchmark.

It answers every POST to .../chat/completions at once with a fixed completion, so that a
measurement sees the client's cost, not the server's. Tests use their own fake server, in Rust.
"""

import json
import socket
import threading
import time

REPLY = json.dumps({
    "id": "chatcmpl-local",
    "object": "chat.completion",
    "created": 0,
    "model": "local-stand-in",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant",
                             "content": "Hello from the local stand-in server."}}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
}).encode()



def _response(reply):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(reply)).encode() +
            b"\r\n\r\n" + reply)


RESPONSE = _response(REPLY)


def tool_call_response(name, arguments):
    """A response that calls tool `name` once, for the first request of a turn."""
    reply = json.loads(REPLY)
    reply["choices"][0]["finish_reason"] = "tool_calls"
    reply["choices"][0]["message"] = {"role": "assistant", "content": None, "tool_calls": [{
        "id": "call_1", "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)}}]}
    return _response(json.dumps(reply).encode())


ARRIVALS = []
"""Wall-clock time (time.time()) at which each request's headers were complete."""


def _serve_one(conn, first_reply):
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        ARRIVALS.append(time.time())
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        # With `first_reply`, a request that carries no tool result yet gets it (a tool call);
        # the request after the tool ran gets the fixed completion.
        answered = first_reply is None or b'"role":"tool"' in body.replace(b" ", b"")
        conn.sendall(RESPONSE if answered else first_reply)


def start(first_reply=None):
    """Starts the server on a free loopback port; returns its base URL. `first_reply`
    (see tool_call_response) answers each turn's first request instead of the completion."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def accept_loop():
        while True:
            conn, _ = listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _serve_one(conn, first_reply)

    threading.Thread(target=accept_loop, daemon=True).start()
    return "http://127.0.0.1:%d/v1" % listener.getsockname()[1]
