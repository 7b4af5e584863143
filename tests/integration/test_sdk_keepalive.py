"""The SDK never sends a request on a pooled connection that has sat idle long
enough for the appliance to be closing it (a request racing that close is reset)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from appliance.sdk import transport
from appliance.sdk.transport import Transport

pytestmark = pytest.mark.integration


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self) -> None:
        body = str(self.client_address[1]).encode()  # the client's port: its connection
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_busy_connection_is_reused_and_an_idle_one_is_not(server, monkeypatch):
    monkeypatch.setattr(transport, "STALE_AFTER", 0.3)
    t = Transport(server)
    first = t._request("GET", "/").text
    assert t._request("GET", "/").text == first  # kept alive while busy
    time.sleep(0.5)
    assert t._request("GET", "/").text != first  # idle past STALE_AFTER: a new one
    t.close()
