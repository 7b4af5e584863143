"""Input at the edges of what the appliance decodes: JSON nested past the limit,
numbers in a query past what the catalog holds, a method a path does not have.
Each is a 400 (or 405) problem that says so, never a 500."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import requests

from tests.api.conftest import Api, World
from tests.api.problems import JSON, A, assert_problem

pytestmark = pytest.mark.api

LIMIT = 64  # appliance.web.media.MAX_JSON_DEPTH, as documented in docs/api.md


def nested(depth: int, inner: str = "1") -> str:
    """``depth`` levels of arrays and objects around ``inner``, alternating."""
    levels = range(depth)
    opening = "".join('{"k": ' if level % 2 else "[" for level in reversed(levels))
    return opening + inner + "".join("}" if level % 2 else "]" for level in levels)


# -- JSON nested too deeply ---------------------------------------------------------

EVENTS = A + "/datasets/deep-events/annotation-events?stream=s"

# fmt: off
DEEP_CASES = [
    #   id                  who      path           the body; @ is where the nesting goes
    ("login-anonymous",     None,    "/v1/sessions", '{"username": "a", "password": "x", "x": @}'),
    ("login-bare",          None,    "/v1/sessions", "@"),
    ("job-params",          "alice", A + "/jobs",    '{"kind": "gc", "params": {"deep": @}}'),
    ("dataset-create",      "alice", A + "/datasets", '{"name": "deep", "split": @}'),
    ("event-batch",         "alice", EVENTS,         '{"events": @}'),
]
# fmt: on


@pytest.fixture(scope="module")
def deep_events(world: World) -> None:
    world.alice.ok("POST", A + "/datasets", 201, json={"name": "deep-events"})


@pytest.mark.parametrize("depth", [LIMIT + 1, 1000, 100_000])
@pytest.mark.parametrize(
    ("who", "path", "body"), [pytest.param(*c[1:], id=c[0]) for c in DEEP_CASES]
)
def test_json_nested_past_the_limit_is_400_naming_it(
    world: World, deep_events: None, who: str | None, path: str, body: str, depth: int
):
    api: Api = getattr(world, who) if who else world.api(None)
    r = api.post(path, data=body.replace("@", nested(depth)).encode(), headers=JSON)
    problem = assert_problem(r, 400, "invalid-input")
    assert problem["limit"] == LIMIT and f"{LIMIT} levels" in problem["detail"], problem
    assert problem["hint"]


def test_json_within_the_limit_is_decoded(world: World):
    """64 levels in all (the body's own object is the first) are let through to the
    decoder, which then says what is wrong with them: an unknown field here."""
    body = '{"username": "alice", "password": "x", "extra": @}'.replace("@", nested(LIMIT - 1))
    r = world.api(None).post("/v1/sessions", data=body.encode(), headers=JSON)
    problem = assert_problem(r, 400, "invalid-input")
    assert "unknown field" in str(problem["errors"]), problem


def test_msgpack_nested_past_the_limit_is_400(world: World, deep_events: None):
    deep: Any = 1
    for _ in range(LIMIT + 5):
        deep = [deep]
    body = msgspec.msgpack.encode([{"id": "e1", "file": "a.jpg", "op": "add", "objects": deep}])
    r = world.alice.post(
        A + "/datasets/deep-events/annotation-events?stream=s",
        data=body,
        headers={"Content-Type": "application/msgpack"},
    )
    assert assert_problem(r, 400, "invalid-input")["limit"] == LIMIT


# -- numbers in a query -------------------------------------------------------------

PAST = [str(2**63), str(10**30), "-1", "1e400", "nan"]


def numeric_query_parameters(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, name, schema) of every integer or number query parameter of a GET."""
    found = []
    for path, item in spec["paths"].items():
        for param in item.get("get", {}).get("parameters", []):
            schema = param.get("schema", {})
            kinds = {schema.get("type")} | {a.get("type") for a in schema.get("oneOf", [])}
            if param["in"] == "query" and kinds & {"integer", "number"}:
                found.append((path, param["name"], schema))
    return found


def test_every_numeric_query_parameter_is_documented_with_bounds(world: World):
    spec = world.api(None).ok("GET", "/v1/openapi.json")
    params = numeric_query_parameters(spec)
    names = {name for _, name, _ in params}
    assert {"limit", "after", "since"} <= names, names
    unbounded = [(p, n) for p, n, s in params if "minimum" not in s or "maximum" not in s]
    assert not unbounded, unbounded
    limits = {(s["minimum"], s["maximum"]) for _, n, s in params if n == "limit"}
    assert limits == {(1, 1000)}
    after = [s for _, n, s in params if n == "after"]
    assert all(s["maximum"] == 2**63 - 1 and isinstance(s["maximum"], int) for s in after)


@pytest.mark.parametrize("value", PAST)
def test_every_numeric_query_parameter_out_of_range_is_400(world: World, value: str):
    """Walked from the live document, so a parameter added later is checked too.
    ``after`` past 64 bits on a job's log was a 500 (the catalog cannot bind it)."""
    spec = world.api(None).ok("GET", "/v1/openapi.json")
    job = world.alice.ok("POST", A + "/verify", 202, json={})["id"]
    ids = {"ws": "ws-a", "ds": "intake-bounds", "job_id": job, "hook_id": "none", "ref": "1"}
    wrong = []
    for path, name, _ in numeric_query_parameters(spec):
        url = path
        for key, real in ids.items():
            url = url.replace("{" + key + "}", real)
        if "{" in url:
            continue  # no real id to fill (none of today's numeric parameters)
        r = world.alice.get(url, params={name: value}, stream=True)
        r.close()
        if r.status_code != 400:
            wrong.append((path, name, r.status_code))
    assert not wrong, wrong


def test_a_job_log_after_past_64_bits_is_400_not_500(world: World):
    job = world.alice.ok("POST", A + "/verify", 202, json={})["id"]
    r = world.alice.get(f"{A}/jobs/{job}/log", params={"after": str(2**63)})
    body = assert_problem(r, 400, "invalid-input")
    assert "after" in str(body["errors"]), body
    assert world.alice.ok("GET", f"{A}/jobs/{job}/log", params={"after": str(2**63 - 1)})


# -- a method the path does not have --------------------------------------------------


def test_a_method_the_path_does_not_have_is_405_with_allow(world: World):
    r = world.alice.call("PATCH", A + "/datasets", json={})
    assert_problem(r, 405, "method-not-allowed")
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed and "PATCH" not in allowed, allowed
    anonymous = requests.patch(world.server.url + "/v1/status", timeout=30)
    assert anonymous.status_code == 405 and "GET" in anonymous.headers["allow"]
