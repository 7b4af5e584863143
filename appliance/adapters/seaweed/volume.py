"""A small client for SeaweedFS's master and volume servers: whole objects by fid.

``assign`` asks the master for a file id (``"3,01637037d6"``: volume 3, needle
key and cookie) and the volume server that holds it; ``put`` sends the bytes
there in one PUT; reads are ``Range`` GETs and deletes ``DELETE`` on
``http://<volume server>/<fid>``. This skips the filer, which would cut every
body into chunks and forward each to the volume server: for 16 MiB packs that
halves weed's CPU per byte (docs/blobstore.md).

Every body goes up as ``application/octet-stream``: without a type, weed sniffs
the first bytes and gzips a body that looks like text, and a ``Range`` GET on
a gzipped needle answers with a slice of the compressed bytes.

The master is reached over HTTPS with the client certificate, the volume
servers over HTTP with a token per request (both set up by the session,
``httpio.pooled_session``).

Volume id → server URL comes from the master's ``/dir/lookup`` and is cached;
a connection error on a cached URL drops it and looks the volume up once more
(the volume may have moved, or weed restarted on other ports).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

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

_FID = re.compile(r"([0-9]+),[0-9a-f]{9,40}")
# weed stores the type and compresses by it; identity keeps it from ever
# answering a range with compressed bytes.
_PUT_HEADERS = {"Content-Type": "application/octet-stream"}
_GET_HEADERS = {"Accept-Encoding": "identity"}


def is_fid(locator: str) -> bool:
    """Whether ``locator`` names a volume needle (filer paths start with '/')."""
    return _FID.fullmatch(locator) is not None


@dataclass(frozen=True, slots=True)
class Assignment:
    fid: str
    url: str  # the volume server's base URL, e.g. http://127.0.0.1:8080


class VolumeClient:
    def __init__(
        self,
        master_url: str,
        *,
        pool_size: int = 8,
        connect_timeout: float = 5.0,
        read_timeout: float = 300.0,
        fsync: bool = False,
        credentials: WeedCredentials | None = None,
    ) -> None:
        self.master_url = master_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        # fsync=true: the volume server fsyncs the .dat file before answering
        # (one fsync per needle, checked with strace).
        self._put_params = {"fsync": "true"} if fsync else {}
        self._http = pooled_session(4, pool_size, credentials)
        self._urls: dict[str, str] = {}  # volume id → base URL
        self._lock = threading.Lock()

    # -- master ------------------------------------------------------------------

    def _master(self, path: str, **params: str) -> requests.Response:
        try:
            return self._http.get(self.master_url + path, params=params, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise BlobStoreUnavailable(self.master_url, cause(exc)) from exc

    def ping(self) -> None:
        r = self._master("/cluster/status")
        if r.status_code >= 300:
            raise BlobStoreUnavailable(self.master_url, f"HTTP {r.status_code}: {r.text[:200]}")

    def assign(self) -> Assignment:
        r = self._master("/dir/assign")
        doc = _json(r)
        fid, url = str(doc.get("fid") or ""), str(doc.get("url") or "")
        if r.status_code >= 300 or doc.get("error") or not is_fid(fid) or not url:
            raise refused(self.master_url, "assign", r.status_code, str(doc.get("error") or r.text))
        base = _base(url)
        with self._lock:
            self._urls[_volume_id(fid)] = base
        return Assignment(fid, base)

    def _locate(self, vid: str, *, fresh: bool) -> str:
        with self._lock:
            if not fresh and vid in self._urls:
                return self._urls[vid]
        r = self._master("/dir/lookup", volumeId=vid)
        locations = _json(r).get("locations")
        if r.status_code != 200 or not isinstance(locations, list) or not locations:
            # Not "missing": a restarted master learns its volumes from heartbeats.
            why = f"volume {vid} is not known: {r.text[:200]}"
            raise BlobStoreUnavailable(self.master_url, why)
        base = _base(str(locations[0]["url"]))
        with self._lock:
            self._urls[vid] = base
        return base

    def _on_volume(self, fid: str, method: str, **kwargs: object) -> tuple[str, requests.Response]:
        """One request to the server holding ``fid``; on a connection error the
        cached URL is dropped and the volume looked up once more."""
        if not is_fid(fid):
            raise BlobStoreUnavailable(self.master_url, f"{fid!r} is not a volume file id")
        vid = _volume_id(fid)
        for fresh in (False, True):
            base = self._locate(vid, fresh=fresh)
            try:
                return base, self._http.request(
                    method,
                    f"{base}/{fid}",
                    timeout=self.timeout,
                    **kwargs,  # type: ignore[arg-type]
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if fresh or isinstance(exc, requests.ReadTimeout):
                    raise BlobStoreUnavailable(base, cause(exc)) from exc
        raise AssertionError("unreachable")

    # -- volume servers ------------------------------------------------------------

    def put(self, assignment: Assignment, body: bytes | bytearray) -> None:
        """Write a whole needle at the assigned place (a fid is written once)."""
        url = f"{assignment.url}/{assignment.fid}"
        try:
            r = self._http.put(
                url, data=body, params=self._put_params, headers=_PUT_HEADERS, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise BlobStoreUnavailable(assignment.url, cause(exc)) from exc
        if r.status_code >= 300:
            raise refused(assignment.url, f"write of {assignment.fid}", r.status_code, r.text)

    def get(self, fid: str, start: int, length: int) -> bytes | None:
        """Bytes ``[start, start+length)`` of a needle; None if it is gone."""
        if length == 0:
            return b""
        headers = {**_GET_HEADERS, **range_header(start, length)}
        base, r = self._on_volume(fid, "GET", headers=headers)
        return ranged_body(r, base, fid, start, length)

    def stream(self, fid: str, start: int, length: int, chunk: int) -> Iterator[bytes] | None:
        if length == 0:
            return iter(())
        headers = {**_GET_HEADERS, **range_header(start, length)}
        base, r = self._on_volume(fid, "GET", headers=headers, stream=True)
        return ranged_chunks(r, base, fid, start, length, chunk)

    def delete(self, fid: str) -> bool:
        """Delete a needle; False if it was not there (already deleted, or never
        written by a killed writer)."""
        base, r = self._on_volume(fid, "DELETE")
        if r.status_code == 404:
            return False
        if r.status_code >= 300:
            raise BlobStoreUnavailable(base, f"delete of {fid} answered HTTP {r.status_code}")
        return True

    def close(self) -> None:
        self._http.close()


def _volume_id(fid: str) -> str:
    return fid.split(",", 1)[0]


def _base(url: str) -> str:
    return url.rstrip("/") if "://" in url else f"http://{url.rstrip('/')}"


def _json(r: requests.Response) -> dict[str, object]:
    try:
        doc = r.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
