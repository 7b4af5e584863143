"""A small client for the SeaweedFS filer's HTTP API (PUT, ranged GET, DELETE, list).

Only what the blob store needs. Every transport failure becomes
``BlobStoreUnavailable``; a write refused for lack of space becomes
``StorageFull``. One pooled ``requests.Session`` is shared by all threads
(requests' connection pool is thread-safe; per-request state is not shared).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import requests

from appliance.adapters.seaweed.credentials import WeedCredentials
from appliance.adapters.seaweed.httpio import (
    cause,
    pooled_session,
    range_header,
    ranged_body,
    ranged_chunks,
    refused,
)
from appliance.errors import BlobStoreUnavailable

_DIR_MODE = 1 << 31  # Go's os.ModeDir, as the filer reports it in listings
_LIST_PAGE = 1000
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


@dataclass(frozen=True, slots=True)
class FilerEntry:
    path: str
    size: int
    mtime: float
    is_dir: bool

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class FilerClient:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 8,
        connect_timeout: float = 5.0,
        read_timeout: float = 300.0,
        fsync: bool = False,
        credentials: WeedCredentials | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        # fsync=true makes the volume server fsync before answering; with packs
        # that is one fsync per pack (~16 MiB), not one per file.
        self._put_params = {"fsync": "true"} if fsync else {}
        self._http = pooled_session(2, pool_size, credentials)

    def _u(self, path: str) -> str:
        return self.url + quote(path)

    def _call(self, method: str, path: str, **kwargs: object) -> requests.Response:
        try:
            return self._http.request(method, self._u(path), timeout=self.timeout, **kwargs)  # type: ignore[arg-type]
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise BlobStoreUnavailable(self.url, cause(exc)) from exc

    def ping(self) -> None:
        r = self._call("GET", "/", headers={"Accept": "application/json"}, params={"limit": 1})
        if r.status_code >= 500:
            raise BlobStoreUnavailable(self.url, f"HTTP {r.status_code}: {r.text[:200]}")

    def put(self, path: str, body: bytes | bytearray | Iterable[bytes]) -> None:
        r = self._call(
            "PUT",
            path,
            params=self._put_params,
            data=body,
            headers={"Content-Type": "application/octet-stream"},
        )
        if r.status_code >= 300:
            raise refused(self.url, f"write of {path}", r.status_code, r.text)

    def get(self, path: str, start: int, length: int) -> bytes | None:
        """Bytes ``[start, start+length)`` of an object; None if the object is gone
        (a short answer is returned as is, for the caller's hash check)."""
        if length == 0:
            return b""
        r = self._call("GET", path, headers=range_header(start, length))
        return ranged_body(r, self.url, path, start, length)

    def stream(self, path: str, start: int, length: int, chunk: int) -> Iterator[bytes] | None:
        if length == 0:
            return iter(())
        r = self._call("GET", path, headers=range_header(start, length), stream=True)
        return ranged_chunks(r, self.url, path, start, length, chunk)

    def delete(self, path: str) -> bool:
        r = self._call("DELETE", path)
        if r.status_code >= 500:
            raise BlobStoreUnavailable(self.url, f"delete of {path} answered HTTP {r.status_code}")
        return r.status_code < 300

    def list_dir(self, path: str) -> Iterator[FilerEntry]:
        """Every entry directly under ``path`` (paged); nothing if it does not exist."""
        base = path.rstrip("/") + "/"
        last = ""
        while True:
            r = self._call(
                "GET",
                base,
                headers={"Accept": "application/json"},
                params={"limit": _LIST_PAGE, "lastFileName": last},
            )
            if r.status_code == 404:
                return
            if r.status_code != 200:
                raise BlobStoreUnavailable(self.url, f"listing {path} answered {r.status_code}")
            doc = r.json()
            for e in doc.get("Entries") or ():
                yield FilerEntry(
                    path=e["FullPath"],
                    size=int(e.get("FileSize") or 0),
                    mtime=_parse_time(e.get("Mtime", "")),
                    is_dir=bool(int(e.get("Mode") or 0) & _DIR_MODE),
                )
            last = doc.get("LastFileName") or ""
            if not doc.get("ShouldDisplayLoadMore") or not last:
                return

    def close(self) -> None:
        self._http.close()


def _parse_time(text: str) -> float:
    """Go's RFC 3339 with nanoseconds, e.g. 2026-11-25T18:02:42.977602701Z."""
    m = _RFC3339.match(text)
    if m is None:
        return 0.0
    head, frac, zone = m.groups()
    zone = "+00:00" if zone in (None, "Z") else zone
    return datetime.fromisoformat(head + zone).timestamp() + float("0" + (frac or ""))
