"""A real JSON-RPC proxy on 127.0.0.1 that drops the first N connections: a transient fault
the sender must ride out, without patching anything inside it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import requests


class FlakyProxy:
    def __init__(self, upstream: str, *, drop_first: int) -> None:
        self.upstream = upstream
        self.remaining_drops = drop_first
        self.dropped = 0
        self.forwarded = 0
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    drop = proxy.remaining_drops > 0
                    if drop:
                        proxy.remaining_drops -= 1
                        proxy.dropped += 1
                if drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                reply = requests.post(
                    proxy.upstream, data=body, headers={"Content-Type": "application/json"}, timeout=10
                )
                with lock:
                    proxy.forwarded += 1
                self.send_response(reply.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FlakyProxy:
        self.thread.start()
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
