"""Who you are and what you may do: every refusal is a problem+json 401 or 403."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.api.conftest import Api, World, log_in
from tests.api.problems import ZEROS, A, assert_problem

pytestmark = pytest.mark.api


# -- who you are ----------------------------------------------------------------------


def _pat(world: World, name: str) -> dict[str, Any]:
    return world.alice.ok("POST", "/v1/tokens", 201, json={"name": name, "expires_in_days": 1})


def _revoked(world: World) -> str:
    pat = _pat(world, "to-revoke")
    assert world.api(pat["token"]).get("/v1/me").status_code == 200
    world.alice.ok("DELETE", f"/v1/tokens/{pat['id']}", 204)
    return str(pat["token"])


def _expired(world: World) -> str:
    pat = _pat(world, "to-expire")
    assert world.api(pat["token"]).get("/v1/me").status_code == 200
    world.server.sql("UPDATE tokens SET expires_at = ? WHERE id = ?", time.time() - 5, pat["id"])
    return str(pat["token"])


def _logged_out(world: World) -> str:
    session = log_in(world.server, "vic")
    session.ok("DELETE", "/v1/sessions/current", 204)
    return str(session.token)


def _unknown(world: World) -> str:
    return "ahoy_pat_0123456789abcdef.not-a-secret-anyone-was-given"


def _wrong_secret(world: World) -> str:
    head, _, _ = str(world.alice.token).partition(".")
    return head + ".guessed"


AUTH_CASES = [
    # id, Authorization header (or how to make a token), detail says
    ("missing", None, "no token was sent"),
    ("empty-bearer", "Bearer ", "no token was sent"),
    ("not-bearer", "Basic YWxpY2U6c2VjcmV0", "no token was sent"),
    ("malformed", "Bearer garbage", "malformed"),
    ("too-long", "Bearer ahoy_pat_x." + "y" * 300, "malformed"),
    ("unknown", _unknown, "not known"),
    ("wrong-secret", _wrong_secret, "not known"),
    ("revoked", _revoked, "revoked"),
    ("expired", _expired, "expired"),
    ("logged-out", _logged_out, "revoked"),
]


@pytest.mark.parametrize(("header", "says"), [pytest.param(*c[1:], id=c[0]) for c in AUTH_CASES])
def test_a_call_without_a_valid_token_is_401(world: World, header: Any, says: str):
    if callable(header):
        header = f"Bearer {header(world)}"
    headers = {"Authorization": header} if header is not None else {}
    for path in ("/v1/me", A + "/datasets"):
        r = requests.get(world.server.url + path, headers=headers, timeout=30)
        body = assert_problem(r, 401, "unauthenticated")
        assert says in body["detail"] and body["hint"], body


def test_the_setup_token_is_not_a_bearer_token_and_works_once(world: World):
    token = world.server.setup_token_or_none()
    r = world.api(token).get("/v1/me")
    assert_problem(r, 401, "unauthenticated")
    again = {"setup_token": token, "username": "mallory", "password": "long-enough-password"}
    assert_problem(world.api(None).post("/v1/setup", json=again), 401, "unauthenticated")


def test_a_wrong_password_is_401(world: World):
    r = world.api(None).post("/v1/sessions", json={"username": "alice", "password": "nope-nope"})
    assert_problem(r, 401, "unauthenticated")


# -- what you may do ------------------------------------------------------------------

FORBIDDEN_CASES = [
    # id, who, method, path, body
    ("viewer-creates-dataset", "vic", "POST", A + "/datasets", {"name": "vics"}),
    ("viewer-stages", "vic", "POST", A + "/blobs/missing", {"sha256": [ZEROS]}),
    ("viewer-runs-gc", "vic", "POST", A + "/gc", {"dry_run": True}),
    ("viewer-adds-member", "vic", "PUT", A + "/members/bob", {"role": "viewer"}),
    ("viewer-lists-webhooks", "vic", "GET", A + "/webhooks", None),
    ("user-creates-user", "alice", "POST", "/v1/users", {"username": "eve", "password": "x" * 12}),
    ("user-lists-users", "alice", "GET", "/v1/users", None),
    ("user-creates-workspace", "alice", "POST", "/v1/workspaces", {"id": "ws-alice"}),
    ("owner-sets-own-quota", "alice", "PUT", A + "/quota", {"quota_bytes": None}),
    ("user-verifies-audit", "alice", "GET", "/v1/audit/verify", None),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "body"), [pytest.param(*c[1:], id=c[0]) for c in FORBIDDEN_CASES]
)
def test_a_role_without_the_permission_is_403(
    world: World, who: str, method: str, path: str, body: Any
):
    api: Api = getattr(world, who)
    kwargs = {"json": body} if body is not None else {}
    problem = assert_problem(api.call(method, path, **kwargs), 403, "forbidden")
    assert problem["permission"] and problem["hint"]
