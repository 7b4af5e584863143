"""What every bad-input test checks: the RFC 9457 shape, and that nothing was stored."""

from __future__ import annotations

import os
from typing import Any

import requests

from tests.api.conftest import Api

A = "/v1/workspaces/ws-a"
JSON = {"Content-Type": "application/json"}
TAR = {"Content-Type": "application/x-tar"}
RAW = {"Content-Type": "application/octet-stream"}
ZEROS = "0" * 64


def assert_problem(r: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The RFC 9457 shape every refusal has; returns the body."""
    assert r.status_code == status, f"{r.request.method} {r.url}: {r.status_code} {r.text}"
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["type"] == f"urn:ahoy:problem:{code}", body
    assert body["status"] == status
    assert body["title"] and body["detail"], body
    if status == 401:
        assert r.headers["www-authenticate"] == 'Bearer realm="ahoy"'
    return body  # type: ignore[no-any-return]


def fresh(n: int = 3000) -> bytes:
    """Bytes no test has stored before."""
    return os.urandom(n)


def missing(api: Api, ws: str, digests: list[str]) -> list[str]:
    return sorted(
        api.ok("POST", f"/v1/workspaces/{ws}/blobs/missing", json={"sha256": digests})["missing"]
    )
