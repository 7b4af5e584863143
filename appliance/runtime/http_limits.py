"""uvicorn's limits, set on purpose rather than left at their defaults.

- ``limit_concurrency``: connections and running requests held at once; beyond it
  uvicorn answers 503 at once instead of growing without bound.
- ``timeout_keep_alive``: how long an idle keep-alive connection stays open.
- The request head (request line and headers) is bounded by ``max_header_bytes``.
  h11 has a knob for that; httptools (the faster parser, used when installed) has
  none, so ``BoundedHttpTools`` counts the head's bytes itself and answers 431.
- uvicorn has no timeout on a request body: the app enforces one
  (``appliance.web.edge``).
"""

from __future__ import annotations

from typing import Any

from appliance.settings import Settings


def _bounded_httptools(max_head: int) -> type | None:
    try:
        from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
    except ImportError:  # httptools is not installed: uvicorn runs h11
        return None

    class BoundedHttpTools(HttpToolsProtocol):
        """httptools with a bound on the request head: the URL and header bytes the
        parser hands over are counted, and so are the raw bytes of a head still
        arriving over several reads; past ``max_head`` the connection gets a 431
        and is closed (the parser holds at most one read beyond the bound)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.head_open = True
            self.head_bytes = self.head_raw = 0
            self.head_refused = False

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.head_open, self.head_bytes, self.head_raw = True, 0, 0

        def on_url(self, url: bytes) -> None:
            self.count_head(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self.count_head(len(name) + len(value) + 4)
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self.head_open = False
            super().on_headers_complete()

        def count_head(self, n: int) -> None:
            self.head_bytes += n
            if self.head_bytes > max_head:
                self.head_refused = True
                raise ValueError("request head too large")  # stops the parser

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if not self.head_open or self.transport.is_closing():
                return
            self.head_raw += len(data)
            if self.head_raw > max_head:
                self.refuse_head()

        def send_400_response(self, msg: str) -> None:
            if self.head_refused:  # the parser stopped because of the bound
                self.refuse_head()
            else:
                super().send_400_response(msg)

        def refuse_head(self) -> None:
            msg = f"Request header fields too large (over {max_head} bytes).".encode()
            self.logger.warning("refused a request head of over %d bytes", max_head)
            self.transport.write(
                b"".join(
                    [
                        STATUS_LINE[431],
                        b"content-type: text/plain; charset=utf-8\r\n",
                        b"content-length: " + str(len(msg)).encode() + b"\r\n",
                        b"connection: close\r\n\r\n",
                        msg,
                    ]
                )
            )
            self.transport.close()

    return BoundedHttpTools


def server_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.Config`` that bound what clients can hold."""
    options: dict[str, Any] = {
        "limit_concurrency": settings.http_max_connections,
        "timeout_keep_alive": settings.http_keep_alive_seconds,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }
    options["http"] = _bounded_httptools(settings.max_header_bytes) or "h11"
    return options
