"""Which key signs which request to weed, and that the token is a valid HS256 JWT."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests

from appliance.adapters.seaweed.tokens import TOKEN_SECONDS, JwtKeys, WeedAuth

KEYS = JwtKeys(b"volume-write", b"volume-read", b"filer-write", b"filer-read")
FID = "3,01637037d6"


def decode(token: str, key: bytes) -> dict[str, object]:
    head, body, mac = token.split(".")
    want = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4)) == want, "signed with another key"
    assert json.loads(base64.urlsafe_b64decode(head + "==")) == {"alg": "HS256", "typ": "JWT"}
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def signed(method: str, url: str) -> str | None:
    r = WeedAuth(KEYS)(requests.Request(method, url).prepare())
    header = r.headers.get("Authorization")
    if header is None:
        return None
    assert header.startswith("Bearer ")
    return header[len("Bearer ") :]


@pytest.mark.parametrize(
    ("method", "url", "key", "fid"),
    [
        ("PUT", f"http://127.0.0.1:8080/{FID}", KEYS.volume_write, FID),
        ("DELETE", f"http://127.0.0.1:8080/{FID}?fsync=true", KEYS.volume_write, FID),
        ("GET", f"http://127.0.0.1:8080/{FID}", KEYS.volume_read, FID),
        ("HEAD", f"http://127.0.0.1:8080/{FID}", KEYS.volume_read, FID),
        ("PUT", "http://127.0.0.1:8888/ahoy/blobs/ws/packs/1.pack", KEYS.filer_write, None),
        ("POST", "http://127.0.0.1:8888/a/b?mv.from=/a/c", KEYS.filer_write, None),
        ("DELETE", "http://127.0.0.1:8888/a/b", KEYS.filer_write, None),
        ("GET", "http://127.0.0.1:8888/ahoy/blobs/ws/packs/", KEYS.filer_read, None),
        ("GET", "http://127.0.0.1:8888/3,01637037d6/x", KEYS.filer_read, None),
    ],
)
def test_each_request_gets_a_token_of_its_key(
    method: str, url: str, key: bytes, fid: str | None
) -> None:
    token = signed(method, url)
    assert token is not None
    claims = decode(token, key)
    assert claims.get("fid") == fid
    exp = claims["exp"]
    assert isinstance(exp, int) and 0 < exp - time.time() <= TOKEN_SECONDS


def test_the_master_over_https_gets_no_token() -> None:
    assert signed("GET", "https://127.0.0.1:9333/dir/assign") is None


def test_keys_do_not_show_in_their_repr() -> None:
    assert "volume-write" not in repr(KEYS) and "filer-read" not in repr(KEYS)
