"""A real HTTP webhook receiver that records what it is sent: on a LAN host
(``tests.integration.lan``), where webhooks may go, or on 127.0.0.1, where they
must never arrive."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.integration.lan import Lan


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    method: str = "POST"


@dataclass
class Receiver:
    url: str
    #: Answer 500 to this many requests first (across paths), then 200.
    fail_first: int = 0
    #: Answer 500 to every request on these paths.
    always_fail: set[str] = field(default_factory=set)
    #: Seconds to wait before answering requests on these paths.
    slow: dict[str, float] = field(default_factory=dict)
    #: Answer 302 with this Location to requests on these paths.
    redirect: dict[str, str] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def ok(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [
                r for r in self.requests if r.status == 200 and (path is None or r.path == path)
            ]

    async def wait_for(self, count: int, path: str | None = None, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                seen = [r for r in self.requests if path is None or r.path == path]
            if len(seen) >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"the receiver got {len(seen)} request(s) on {path}, not {count}")


@contextmanager
def receiver(lan: Lan | None = None, port: int = 0) -> Iterator[Receiver]:
    """Listening on ``lan``'s address, or on 127.0.0.1 when there is none."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            delay = state.slow.get(self.path, 0.0)
            if delay:
                time.sleep(delay)
            with state.lock:
                failing = state.fail_first > 0 or self.path in state.always_fail
                if state.fail_first > 0:
                    state.fail_first -= 1
                location = state.redirect.get(self.path)
                status = 500 if failing else 302 if location else 200
                state.requests.append(
                    Received(self.path, dict(self.headers), body, status, self.command)
                )
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_PUT = do_POST  # a followed redirect may change the method

        def log_message(self, format: str, *args: object) -> None:
            pass

    host = lan.address if lan else "127.0.0.1"
    if lan:
        server = lan.inside(lambda: ThreadingHTTPServer((host, port), Handler))
    else:
        server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    state.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
