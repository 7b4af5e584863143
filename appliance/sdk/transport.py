"""One HTTP session to the appliance: auth, problem+json errors, pagination."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, Self
from urllib.parse import quote

import requests

from appliance.sdk.errors import NOT_LOGGED_IN, ApiError, ApiTimeout, ApiUnavailable

DEFAULT_TIMEOUT = 120.0
PAGE_LIMIT = 1000  # the API's maximum page size: fewest round trips
#: The appliance closes a keep-alive connection idle for http_keep_alive_seconds
#: (5 s by default); a request sent on one just as it closes is reset. Pooled
#: connections idle longer than this are dropped before the next request instead.
STALE_AFTER = 2.0


def q(part: object, safe: str = "") -> str:
    """One path segment, percent-encoded (``safe="/"`` for a dataset file path)."""
    return quote(str(part), safe=safe)


class Transport:
    """The keep-alive session every API method goes through.

    ``timeout`` is the connect timeout and the longest silence allowed while
    reading an answer (a streamed download may take longer in total).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        workspace: str = "default",
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.workspace = workspace
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = "ahoy-sdk/0.1"
        self._last_used = 0.0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:  # never the token
        return f"{type(self).__name__}({self.base_url!r}, workspace={self.workspace!r})"

    # --- the one request path ------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: float | None = None,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        """Send one request; a non-2xx answer raises ``ApiError`` from its problem."""
        hdrs: dict[str, str] = {"Accept": "application/json, application/problem+json"}
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        if idempotency_key:
            hdrs["Idempotency-Key"] = idempotency_key
        hdrs.update(headers or {})
        query = {k: v for k, v in (params or {}).items() if v is not None}
        wait = self.timeout if timeout is None else timeout
        if time.monotonic() - self._last_used > STALE_AFTER:
            # idle pooled connections only: one in use is closed when it comes back
            for adapter in self.session.adapters.values():
                adapter.close()
        try:
            resp = self.session.request(
                method,
                self.base_url + path,
                json=json,
                params=query,
                data=data,
                headers=hdrs,
                stream=stream,
                timeout=(min(wait, 30.0), wait),
            )
        except requests.exceptions.ConnectionError as exc:
            # ConnectTimeout is one too: nothing reachable answers at base_url
            raise ApiUnavailable(self.base_url, _cause(exc)) from None
        except requests.exceptions.Timeout:
            raise ApiTimeout(self.base_url, wait) from None
        finally:
            self._last_used = time.monotonic()
        if resp.status_code >= 400:
            try:
                body = resp.content
            finally:
                resp.close()
            error = ApiError.from_problem(resp.status_code, body, resp.reason or "")
            if error.status == 401 and not self.token:
                error.hint = NOT_LOGGED_IN  # this client has no token at all: log in first
            raise error
        return resp

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        """The decoded JSON answer (``None`` for 204)."""
        resp = self._request(method, path, **kw)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def _items(
        self, path: str, params: Mapping[str, Any] | None = None, *, limit: int = PAGE_LIMIT
    ) -> Iterator[Any]:
        """Every item of a list, following ``next_cursor`` page by page.

        A bare JSON array (an unpaginated list) is accepted as one page.
        """
        cursor: str | None = None
        while True:
            page = self._json(
                "GET", path, params={**(params or {}), "limit": limit, "cursor": cursor}
            )
            if isinstance(page, list):
                yield from page
                return
            yield from page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def _ws(self, ws: str | None, *parts: object) -> str:
        """``/v1/workspaces/{ws}/parts...``; ``ws=None`` means the client's workspace."""
        base = f"/v1/workspaces/{q(ws or self.workspace)}"
        return base + "".join(f"/{q(p)}" for p in parts)


def _cause(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host"):
        if marker in text:
            return marker.lower()
    return text if len(text) < 160 else text[:157] + "..."
