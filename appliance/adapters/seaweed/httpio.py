"""HTTP pieces the filer and volume clients share: ranged reads, error mapping.

Both weed servers answer a ``Range`` GET the same way (206, 404 when the object
is gone, 416 past its end, sometimes 200 with the whole object), and both say
"no space" in the same words, so the clients read and map answers here.
"""

from __future__ import annotations

from collections.abc import Iterator

import requests
from requests.adapters import HTTPAdapter

from appliance.adapters.seaweed.credentials import WeedCredentials
from appliance.adapters.seaweed.tokens import WeedAuth
from appliance.errors import BlobStoreError, BlobStoreUnavailable, StorageFull

# Phrases weed uses when it cannot place a write: a full disk, no volume left to
# grow, or every volume turned read-only by -volume.minFreeSpace.
FULL_HINTS = (
    "no space",
    "disk full",
    "not enough",
    "no free volume",
    "no writable volume",
    "read only",
    "readonly",
)


def pooled_session(
    pool_connections: int, pool_maxsize: int, credentials: WeedCredentials | None = None
) -> requests.Session:
    """A session keeping connections to weed open, with no silent retries (a
    failed write must surface, not be replayed behind our back). With
    ``credentials`` it presents the appliance's client certificate to the master
    (trusting only the install's CA) and signs volume and filer requests."""
    session = requests.Session()
    # Nothing from the environment: no proxy for loopback, no .netrc, and
    # REQUESTS_CA_BUNDLE would otherwise replace the CA below on every request.
    session.trust_env = False
    if credentials is not None:
        session.cert = (str(credentials.client_cert), str(credentials.client_key))
        session.verify = str(credentials.ca)
        session.auth = WeedAuth(credentials.jwt_keys())
    adapter = HTTPAdapter(
        pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def cause(exc: Exception) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def refused(where: str, what: str, status: int, text: str) -> BlobStoreError:
    """The error for a write weed answered with ``status`` and ``text``."""
    if any(h in text.lower() for h in FULL_HINTS):
        return StorageFull(where)
    return BlobStoreUnavailable(where, f"{what} answered HTTP {status}: {text[:300]}")


def range_header(start: int, length: int) -> dict[str, str]:
    return {"Range": f"bytes={start}-{start + length - 1}"}


def ranged_body(
    r: requests.Response, where: str, what: str, start: int, length: int
) -> bytes | None:
    """The bytes of a ranged GET's answer; None if the object is gone.

    A short or out-of-range answer is returned as is (possibly empty): the
    caller's hash check reports it as corruption.
    """
    if r.status_code == 404:
        return None
    if r.status_code == 416:
        return b""
    if r.status_code == 200:  # range ignored: whole object
        return r.content[start : start + length]
    if r.status_code != 206:
        raise BlobStoreUnavailable(where, f"read of {what} answered HTTP {r.status_code}")
    return r.content


def ranged_chunks(
    r: requests.Response, where: str, what: str, start: int, length: int, chunk: int
) -> Iterator[bytes] | None:
    """A streamed ranged GET's bytes in chunks; None if the object is gone."""
    if r.status_code == 404:
        r.close()
        return None
    if r.status_code == 416:
        r.close()
        return iter(())
    if r.status_code not in (200, 206):
        r.close()
        raise BlobStoreUnavailable(where, f"read of {what} answered HTTP {r.status_code}")
    return _chunks(r, where, start if r.status_code == 200 else 0, length, chunk)


def _chunks(
    r: requests.Response, where: str, skip: int, length: int, chunk: int
) -> Iterator[bytes]:
    with r:
        left = length
        try:
            for piece in r.iter_content(chunk):
                if skip:
                    cut = min(skip, len(piece))
                    piece, skip = piece[cut:], skip - cut
                if piece:
                    piece = piece[:left]
                    left -= len(piece)
                    yield piece
                if left <= 0:
                    break
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise BlobStoreUnavailable(where, cause(exc)) from exc
