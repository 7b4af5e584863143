"""The edge: plain ASGI in front of the app, for what must hold before routing and
authentication.

- A URL longer than ``max_url_bytes`` is answered 414 at once (problem+json),
  counted with the other refused anonymous requests, and never routed.
- A request body that sends nothing for ``body_idle_seconds`` is cut off: the next
  wait for it raises ``RequestTimeout`` inside the handler, which answers 408 and
  closes the connection. uvicorn has no body timeout; without this, a client that
  announces a large body and goes quiet holds its handler forever.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from appliance.errors import RequestTimeout, UrlTooLong
from appliance.services.shield import Shield
from appliance.settings import Settings
from appliance.web.problems import PROBLEM_JSON, TYPE_PREFIX

Scope = dict[str, Any]
Message = dict[str, Any]


class Edge:
    def __init__(self, app: Any, settings: Settings, shield: Shield) -> None:
        self.app = app
        self.settings = settings
        self.shield = shield

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if length > self.settings.max_url_bytes:
            await self._refuse_url(scope, send, length)
            return
        await self.app(scope, _IdleReceive(receive, self.settings.body_idle_seconds), send)

    async def _refuse_url(self, scope: Scope, send: Any, length: int) -> None:
        exc = UrlTooLong(length, self.settings.max_url_bytes)
        client = scope.get("client")
        self.shield.refused(
            self.settings,
            str(client[0]) if client else "unknown",
            f"URL over {exc.limit} bytes",
            f"{scope.get('method', 'GET')} {scope.get('path', '')}",
        )
        body = json.dumps(
            {
                "type": TYPE_PREFIX + exc.code,
                "title": type(exc).__name__,
                "status": 414,
                "detail": exc.message,
                "hint": exc.hint,
                "limit": exc.limit,
            }
        ).encode()
        headers = [
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 414, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _IdleReceive:
    """``receive`` with a deadline on each wait while the body is still coming; once
    the body is complete, waits pass through (a streamed response listens for the
    client's disconnect with them)."""

    def __init__(self, receive: Any, idle: float) -> None:
        self.receive = receive
        self.idle = idle
        self.body_done = False

    async def __call__(self) -> Message:
        if self.body_done:
            return await self.receive()  # type: ignore[no-any-return]
        try:
            message: Message = await asyncio.wait_for(self.receive(), self.idle)
        except TimeoutError:
            raise RequestTimeout(self.idle) from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.body_done = True
        return message
