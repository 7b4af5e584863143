"""What anyone can send without a token stays cheap: a URL over the limit is a 414
before routing and authentication, a head over the server's limit is a 431, and a
flood of refused requests is audited as one small summary per source and window
instead of one entry (with its whole URL) per request."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.api.conftest import Api, Server, set_up_admin
from tests.api.problems import assert_problem

pytestmark = pytest.mark.api

FLOOD = 300
WINDOW = 2  # seconds per audit summary, so the test sees its windows close
URL_LIMIT = 8 << 10  # the default


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Api]]:
    server = Server(
        tmp_path_factory.mktemp("edge"), blob_store="local", AHOY_REFUSAL_AUDIT_SECONDS=str(WINDOW)
    )
    server.start()
    try:
        yield server, set_up_admin(server)
    finally:
        server.stop()


def _catalog_bytes(server: Server) -> int:
    files = [server.catalog, server.catalog.with_name(server.catalog.name + "-wal")]
    return sum(f.stat().st_size for f in files if f.exists())


def _settled(server: Server) -> int:
    """The last audit entry, once what earlier tests had refused is written (its
    window closed, and the flush that runs every window came)."""
    time.sleep(2 * WINDOW + 0.5)
    return int(server.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0])


def _summaries(server: Server, after: int, count: int) -> list[dict[str, Any]]:
    """The refusal summaries written after entry ``after``, once they add up to ``count``."""
    deadline = time.monotonic() + 6 * WINDOW + 10
    while True:
        rows = server.sql(
            "SELECT target, detail_json FROM audit_log WHERE id > ? AND actor = 'anonymous'"
            " AND action = 'authenticate' AND outcome = 'denied' ORDER BY id",
            after,
        )
        found = [{"target": t, "size": len(d), **json.loads(d)} for t, d in rows]
        if sum(s["count"] for s in found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_a_long_url_is_414_before_routing_and_authentication(edge: tuple[Server, Api]):
    server, admin = edge
    long_path = "/v1/workspaces/ws/datasets/" + "d" * 20_000
    for api, path in (
        (Api(server.url), long_path),  # no token: still 414, not 401
        (admin, long_path),
        (admin, "/no/such/route/" + "r" * 20_000),  # not routed: 414, not 404
        (admin, "/v1/me?q=" + "q" * 20_000),  # the query counts too
    ):
        problem = assert_problem(api.get(path), 414, "uri-too-long")
        assert problem["limit"] == URL_LIMIT and problem["hint"], problem
    # Just under the limit is routed and authenticated as usual.
    assert Api(server.url).get("/v1/me?q=" + "q" * (URL_LIMIT - 20)).status_code == 401


def test_a_head_over_the_server_limit_is_431_and_the_server_goes_on(edge: tuple[Server, Api]):
    server, _ = edge
    r = requests.get(server.url + "/healthz", headers={"X-Big": "b" * 100_000}, timeout=10)
    assert r.status_code == 431
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


def test_a_flood_of_long_urls_costs_one_summary(edge: tuple[Server, Api]):
    server, _ = edge
    after = _settled(server)
    before = _catalog_bytes(server)
    http = requests.Session()
    for i in range(FLOOD):
        r = http.get(f"{server.url}/v1/workspaces/{i}/datasets/" + "x" * 60_000, timeout=30)
        assert r.status_code == 414
    found = _summaries(server, after, FLOOD)

    assert sum(s["count"] for s in found) == FLOOD, found
    assert len(found) <= 6  # one per window the flood spanned
    assert _catalog_bytes(server) - before < 100_000
    for summary in found:
        assert summary["target"] == "source:127.0.0.1"
        assert summary["reasons"] == {f"URL over {URL_LIMIT} bytes": summary["count"]}
        assert summary["size"] < 3000 and len(summary["samples"]) <= 5
        assert all(len(s) < 240 and s.startswith("GET /v1/workspaces/") for s in summary["samples"])


def test_a_flood_of_calls_without_a_valid_token_costs_one_summary(edge: tuple[Server, Api]):
    server, admin = edge
    after = _settled(server)
    before = _catalog_bytes(server)
    http = requests.Session()
    for i in range(FLOOD):
        # Under the URL limit, so each is routed and refused by the chokepoint.
        headers = {"Authorization": "Bearer ahoy_pat_guess.x"} if i % 2 else {}
        r = http.get(f"{server.url}/v1/workspaces/{i}{'y' * 6_000}/datasets", headers=headers)
        assert_problem(r, 401, "unauthenticated")
    found = _summaries(server, after, FLOOD)

    assert sum(s["count"] for s in found) == FLOOD, found
    assert _catalog_bytes(server) - before < 100_000
    reasons: dict[str, int] = {}
    for summary in found:
        assert summary["size"] < 3000
        assert all(len(s) < 240 for s in summary["samples"])
        for why, n in summary["reasons"].items():
            reasons[why] = reasons.get(why, 0) + n
    assert reasons == {
        "not authenticated: no token was sent": FLOOD // 2,
        "not authenticated: the token is not known": FLOOD // 2,
    }
    # No entry per request; the summaries are chained like every other entry.
    assert server.sql("SELECT COUNT(*) FROM audit_log WHERE target LIKE 'GET /v1/%'") == [(0,)]
    assert admin.ok("GET", "/v1/audit/verify")["ok"] is True
