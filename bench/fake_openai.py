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

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(REPLY)).encode() +
            b"\r\n\r\n" + REPLY)


ARRIVALS = []
"""Wall-clock time (time.time()) at which each request's headers were complete."""


def _serve_one(conn):
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
        conn.sendall(RESPONSE)


def start():
    """Starts the server on a free loopback port; returns its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def accept_loop():
        while True:
            conn, _ = listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _serve_one(conn)

    threading.Thread(target=accept_loop, daemon=True).start()
    return "http://127.0.0.1:%d/v1" % listener.getsockname()[1]
