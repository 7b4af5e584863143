"""Short-lived JWTs for weed's volume and filer HTTP ports.

weed checks an HS256 token on every read and write of those ports when its
``jwt.*`` keys are set (``security.toml``): volume tokens carry the needle's
``fid``, filer tokens only an expiry. The appliance holds the keys, so it signs
its own tokens, one per request, good for ``TOKEN_SECONDS``; a token only ever
travels over loopback, where nobody below root can watch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

TOKEN_SECONDS = 60
_FID_PATH = re.compile(r"/([0-9]+,[0-9a-f]{9,40})")
_READS = ("GET", "HEAD")
_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


@dataclass(frozen=True, slots=True)
class JwtKeys:
    """weed's four signing keys: volume writes and reads, filer writes and reads."""

    volume_write: bytes
    volume_read: bytes
    filer_write: bytes
    filer_read: bytes

    def __repr__(self) -> str:  # never print a key, not even in a traceback
        return "JwtKeys(...)"


def sign(key: bytes, claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    signed = _HEADER + b"." + body.rstrip(b"=")
    mac = hmac.new(key, signed, hashlib.sha256).digest()
    return (signed + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()


class WeedAuth(AuthBase):
    """Signs each request to weed: a volume needle (``/<fid>``) gets a token for
    that fid, anything else a filer token; reads use the read keys. The master
    takes no token (it is reached over HTTPS with the client certificate)."""

    def __init__(self, keys: JwtKeys) -> None:
        self._keys = keys

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(r.url or "")
        if url.scheme == "https":
            return r
        read = (r.method or "GET").upper() in _READS
        exp = int(time.time()) + TOKEN_SECONDS
        needle = _FID_PATH.fullmatch(url.path)
        if needle is not None:
            key = self._keys.volume_read if read else self._keys.volume_write
            token = sign(key, {"exp": exp, "fid": needle.group(1)})
        else:
            key = self._keys.filer_read if read else self._keys.filer_write
            token = sign(key, {"exp": exp})
        r.headers["Authorization"] = f"Bearer {token}"
        return r
