"""Tenancy: every workspace operation in the live OpenAPI document, called by a user
who is not a member, with the real ids of another workspace's things, answers
exactly as it would for a workspace that does not exist (404), changes nothing,
and is audited as denied.

The walk reads the operations from ``/v1/openapi.json``, so a new endpoint is
walked the day it is added; one whose path parameter, query parameter or body
this file cannot fill fails the test until it is taught here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from tests.api.conftest import Api, World, sha, tar_of

pytestmark = pytest.mark.api

WS = "/v1/workspaces/{ws}"
#: The one workspace route that is not a workspace permission but box-admin only:
#: a non-admin is refused 403 whether or not the workspace exists (still no leak).
EXPECTED = {("PUT", WS + "/quota"): 403}
STRANGER_BLOB = b"alice's bytes, which must never land in ws-b"

Kwargs = dict[str, Any]


def _bodies(world: World) -> dict[tuple[str, str], Callable[[], Kwargs]]:
    """A valid body for every operation that takes one, so a 400 or 422 cannot mask
    a leak: were the chokepoint to let the call through, it would succeed."""
    ids, data = world.ids, world.blobs[world.ids["sha256"]]
    ds = WS + "/datasets/{ds}"
    tar = tar_of({sha(STRANGER_BLOB): STRANGER_BLOB})
    return {
        ("POST", WS + "/datasets"): lambda: {"json": {"name": "alice-was-here"}},
        ("POST", ds + "/working/files"): lambda: {
            "json": {"files": [{"name": "alice.jpg", "sha256": ids["sha256"], "size": len(data)}]}
        },
        ("POST", ds + "/working/remove"): lambda: {"json": {"paths": [ids["path"]]}},
        ("POST", WS + "/blobs/missing"): lambda: {"json": {"sha256": [ids["sha256"]]}},
        ("POST", WS + "/blobs"): lambda: {
            "data": tar,
            "headers": {"Content-Type": "application/x-tar"},
        },
        ("PUT", WS + "/blobs/{sha256}"): lambda: {
            "data": data,
            "headers": {"Content-Type": "application/octet-stream"},
        },
        ("POST", ds + "/versions"): lambda: {"json": {"message": "alice", "allow_empty": True}},
        ("PUT", ds + "/tags/{name}"): lambda: {"json": {"version": ids["ref"]}},
        ("PUT", ds + "/schema"): lambda: {"json": {"preset": "weather-17x3"}},
        ("POST", ds + "/annotation-events"): lambda: {
            "json": {"events": [{"id": "alice-1", "file": ids["path"], "op": "clear"}]}
        },
        ("PUT", ds + "/labels/{path}"): lambda: {
            "json": {"objects": [{"type": "box", "class": 0, "box": [0.5, 0.5, 0.2, 0.2]}]}
        },
        ("POST", ds + "/review/{path}"): lambda: {"json": {"decision": "approve"}},
        ("POST", ds + "/prelabel/{path}"): lambda: {"json": {"model": "alice-model"}},
        ("POST", WS + "/gc"): lambda: {"json": {"grace_seconds": 0, "dry_run": False}},
        ("POST", WS + "/jobs"): lambda: {
            "json": {"kind": "box-benchmark", "params": {"seconds": 1, "cores": 1}}
        },
        ("POST", WS + "/models"): lambda: {
            "json": {"name": "alice-model", "task": "detect", "weights_sha256": ids["sha256"]}
        },
        ("PUT", WS + "/models/{name}/tags/{tag}"): lambda: {"json": {"version": "1"}},
        ("POST", WS + "/verify"): lambda: {"json": {"deep": True}},
        ("POST", WS + "/erasures"): lambda: {"json": {"reason": "alice", "sha256": ids["sha256"]}},
        ("PUT", WS + "/quota"): lambda: {"json": {"quota_bytes": 1}},
        ("PUT", WS + "/members/{username}"): lambda: {"json": {"role": "viewer"}},
        ("POST", WS + "/webhooks"): lambda: {
            "json": {"url": "http://127.0.0.1:9/alice", "events": ["*"]}
        },
    }


#: Values for required query parameters, by name.
QUERY = {"from": "1", "stream": "alice", "model": ["gold@1", "gold@1"]}
#: Raw-body operations: streams the handler reads itself (declared as binary bodies).
RAW_BODY = {("POST", WS + "/blobs"), ("PUT", WS + "/blobs/{sha256}")}
ORDER = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}


def workspace_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (method, path template, operation) under ``{ws}``: reads first, deletes last."""
    ops = [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        if "{ws}" in path
        for method, op in item.items()
        if method.upper() in ORDER
    ]
    return sorted(ops, key=lambda o: (ORDER[o[0]], o[1]))


class Walk:
    def __init__(self, world: World) -> None:
        self.world = world
        self.bodies = _bodies(world)
        self.spec = Api(world.server.url).ok("GET", "/v1/openapi.json")
        self.ops = workspace_operations(self.spec)

    def url(self, template: str, ws: str) -> str:
        def fill(m: re.Match[str]) -> str:
            name = m.group(1)
            if name == "ws":
                return ws
            assert name in self.world.ids, f"{template}: no real ws-b id for {{{name}}}"
            return quote(self.world.ids[name], safe="/")

        return re.sub(r"\{(\w+)\}", fill, template)

    def kwargs(self, method: str, template: str, op: dict[str, Any]) -> Kwargs:
        make = self.bodies.get((method, template))
        if make is None:
            assert "requestBody" not in op and (method, template) not in RAW_BODY, (
                f"{method} {template} takes a body: add a valid one to _bodies()"
            )
        kwargs = make() if make else {}
        query = {}
        for param in op.get("parameters", []):
            if param["in"] == "query" and param.get("required"):
                assert param["name"] in QUERY, f"{template}: add ?{param['name']}= to QUERY"
                query[param["name"]] = QUERY[param["name"]]
        if query:
            kwargs["params"] = query
        return kwargs

    def call(self, api: Api, method: str, template: str, ws: str, **kwargs: Any) -> Any:
        r = api.call(method, self.url(template, ws), stream=True, timeout=30, **kwargs)
        try:
            body = r.json() if "json" in r.headers.get("content-type", "") else None
        finally:
            r.close()
        return r.status_code, body


def snapshot(bob: Api) -> dict[str, Any]:
    """Everything about ws-b a stranger's call could have changed."""
    base = "/v1/workspaces/ws-b"
    ds = base + "/datasets/secrets"
    jobs = bob.ok("GET", base + "/jobs")["items"]
    return {
        "workspace": bob.ok("GET", base),
        "members": bob.ok("GET", base + "/members"),
        "datasets": bob.ok("GET", base + "/datasets"),
        "working": bob.ok("GET", ds + "/working"),
        "files": bob.ok("GET", ds + "/working/files"),
        "versions": bob.ok("GET", ds + "/versions"),
        "manifest": bob.ok("GET", ds + "/versions/1/manifest"),
        "tags": bob.ok("GET", ds + "/tags"),
        "events": bob.ok("GET", ds + "/annotation-events/alice"),
        "items": bob.ok("GET", ds + "/items"),
        "jobs": [(j["id"], j["state"]) for j in jobs],
        "webhooks": bob.ok("GET", base + "/webhooks")["items"],
        "stranger_blob_absent": bob.ok(
            "POST", base + "/blobs/missing", json={"sha256": [sha(STRANGER_BLOB)]}
        ),
    }


def test_the_walk_covers_every_workspace_operation(world: World):
    walk = Walk(world)
    paths = {t for _, t, _ in walk.ops}
    assert len(walk.ops) >= 40
    for must in ("/blobs/{sha256}", "/versions/{ref}/files/{path}", "/jobs/{job_id}/events"):
        assert WS + "/datasets/{ds}" + must in paths or WS + must in paths


def test_a_stranger_gets_404_for_every_workspace_operation(world: World):
    walk = Walk(world)
    before = snapshot(world.bob)
    (last_audit,) = world.server.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0]

    leaks, differs = [], []
    for method, template, op in walk.ops:
        expected = EXPECTED.get((method, template), 404)
        status, body = walk.call(
            world.alice, method, template, "ws-b", **walk.kwargs(method, template, op)
        )
        if status != expected:
            leaks.append((method, template, status))
            continue
        assert body["type"].startswith("urn:ahoy:problem:"), (method, template, body)
        # Indistinguishable from a workspace that does not exist, word for word.
        nope = walk.call(
            world.alice, method, template, "ws-nope", **walk.kwargs(method, template, op)
        )
        if nope != (status, _swap(body, "ws-b", "ws-nope")):
            differs.append((method, template, nope, (status, body)))
    assert not leaks, f"these answered a stranger with something other than 404: {leaks}"
    assert not differs, f"these tell ws-b apart from a missing workspace: {differs}"

    assert snapshot(world.bob) == before, "a stranger's calls changed ws-b"

    denied = world.server.sql(
        "SELECT action, target, outcome FROM audit_log WHERE id > ? AND actor = 'user:alice'"
        " AND target = 'workspace:ws-b'",
        last_audit,
    )
    permission_ops = [o for o in walk.ops if (o[0], o[1]) not in EXPECTED]
    assert len(denied) == len(permission_ops)
    assert {outcome for _, _, outcome in denied} == {"denied"}


def test_the_ids_are_real_the_owner_reads_every_one(world: World):
    walk = Walk(world)
    failed = []
    for method, template, op in walk.ops:
        if method != "GET":
            continue
        status, _ = walk.call(
            world.bob, method, template, "ws-b", **walk.kwargs(method, template, op)
        )
        if not 200 <= status < 300:
            failed.append((method, template, status))
    assert not failed, f"the owner could not read these with the walk's ids: {failed}"


def test_the_chokepoint_answers_before_the_body_is_read(world: World):
    """Garbage bodies and wrong content types from a stranger still get 404, not 400."""
    walk = Walk(world)
    answers = []
    for method, template, _ in walk.ops:
        if method not in ("POST", "PUT") or (method, template) in EXPECTED:
            continue
        status, body = walk.call(
            world.alice,
            method,
            template,
            "ws-b",
            data=b"{not json",
            headers={"Content-Type": "text/plain"},
        )
        answers.append((method, template, status, body and body["type"]))
    assert answers
    wrong = [a for a in answers if a[2:] != (404, "urn:ahoy:problem:not-found")]
    assert not wrong, wrong


def test_anonymous_calls_get_401_for_every_workspace_operation(world: World):
    walk = Walk(world)
    anon = Api(world.server.url)
    wrong = []
    for method, template, op in walk.ops:
        status, _ = walk.call(anon, method, template, "ws-b", **walk.kwargs(method, template, op))
        if status != 401:
            wrong.append((method, template, status))
    assert not wrong, wrong


def _swap(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _swap(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, old, new) for v in value]
    return value


@pytest.mark.parametrize("what", ["", "/log", "/artifacts", "/events"])
def test_a_job_of_another_workspace_is_404_under_your_own(world: World, what: str):
    """A member of ws-a naming ws-b's job under ws-a (where the chokepoint lets
    them in) learns nothing: 404 for the job, its log and its artifacts alike, as
    for a job that does not exist. Its log and artifacts were 200 and empty."""
    bobs = world.ids["job_id"]
    real = world.bob.get(f"/v1/workspaces/ws-b/jobs/{bobs}{what}", stream=True)
    real.close()
    assert real.status_code == 200, "the job is real, and its owner reads it"
    for job in (bobs, "no-such-job"):
        r = world.alice.get(f"/v1/workspaces/ws-a/jobs/{job}{what}", stream=True)
        try:
            assert r.status_code == 404, (job, what, r.status_code, r.text)
            body = r.json()
        finally:
            r.close()
        assert body == {**body, "type": "urn:ahoy:problem:not-found", "kind": "job", "ref": job}
