"""A token's ``last_used_at``: when it last authenticated a call, written at most
once a minute so a busy token does not cost a write per request."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.conftest import World

pytestmark = pytest.mark.api


def _listed(world: World, token_id: str) -> dict[str, Any]:
    return next(t for t in world.alice.ok("GET", "/v1/tokens") if t["id"] == token_id)


def test_a_token_records_when_it_was_last_used(world: World):
    pat = world.alice.ok("POST", "/v1/tokens", 201, json={"name": "used", "expires_in_days": 1})
    assert _listed(world, pat["id"])["last_used_at"] is None
    before = time.time()
    assert world.api(pat["token"]).get("/v1/me").status_code == 200
    first = _listed(world, pat["id"])["last_used_at"]
    assert first is not None and before - 1 <= first <= time.time() + 1

    # used again within the minute: nothing is written
    assert world.api(pat["token"]).get("/v1/me").status_code == 200
    assert _listed(world, pat["id"])["last_used_at"] == first

    # once the recorded use is more than a minute old, the next use is recorded
    world.server.sql("UPDATE tokens SET last_used_at = ? WHERE id = ?", first - 120, pat["id"])
    assert world.api(pat["token"]).get("/v1/me").status_code == 200
    assert _listed(world, pat["id"])["last_used_at"] >= first


def test_a_refused_token_is_not_recorded_as_used(world: World):
    pat = world.alice.ok("POST", "/v1/tokens", 201, json={"name": "wrong", "expires_in_days": 1})
    forged = pat["token"].rsplit(".", 1)[0] + ".not-the-secret"
    assert world.api(forged).get("/v1/me").status_code == 401
    assert _listed(world, pat["id"])["last_used_at"] is None
