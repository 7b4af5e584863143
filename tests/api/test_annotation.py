"""Annotation over HTTP against the real `ahoy serve`: who may save and review,
bad input with its status and problem type, conditional saves that change nothing
when refused, the queue's filters and pages, and the autosave latency."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import PASSWORD, Api, World, log_in, sha
from tests.api.problems import RAW, A, assert_problem, fresh

pytestmark = pytest.mark.api

DS = A + "/datasets/studio"
IMAGES = ["cars/001.jpg", "cars/002.jpg", "trucks/001.jpg"]


def doc(*classes: int, n: int = 0) -> dict[str, Any]:
    objs = [{"type": "box", "class": c, "box": [0.5, 0.5, 0.1, 0.1]} for c in classes]
    objs += [
        {
            "type": "box",
            "class": i % 3,
            "box": [0.02 + (i % 40) * 0.024, 0.02 + (i // 40) * 0.03, 0.01, 0.01],
        }
        for i in range(n)
    ]
    return {"format": "ahoy.labels/1", "objects": objs}


@pytest.fixture(scope="module")
def team(world: World) -> Iterator[dict[str, Api]]:
    """ws-a gets a dataset of three images, an annotator and a reviewer."""
    alice = world.alice
    for name, role in (("ann-annotator", "annotator"), ("rex-reviewer", "reviewer")):
        world.admin.ok("POST", "/v1/users", 201, json={"username": name, "password": PASSWORD})
        alice.ok("PUT", f"{A}/members/{name}", json={"role": role})
    alice.ok("POST", A + "/datasets", 201, json={"name": "studio"})
    files = []
    for name in IMAGES:
        data = fresh()
        alice.ok("PUT", f"{A}/blobs/{sha(data)}", data=data, headers=RAW)
        files.append({"name": name, "sha256": sha(data), "size": len(data)})
    alice.ok("POST", DS + "/working/files", json={"files": files})
    yield {
        "ann": log_in(world.server, "ann-annotator"),
        "rex": log_in(world.server, "rex-reviewer"),
        "vic": world.vic,
        "alice": alice,
    }


def test_roles_who_may_save_submit_and_review(team):
    ann, rex, vic = team["ann"], team["rex"], team["vic"]
    assert_problem(vic.put(DS + "/labels/cars/001.jpg", json=doc(0)), 403, "forbidden")
    saved = ann.ok("PUT", DS + "/labels/cars/001.jpg", json=doc(0))
    assert (saved["changed"], saved["state"]) == (True, "in_progress")
    assert_problem(vic.post(DS + "/submit/cars/001.jpg"), 403, "forbidden")
    ann.ok("POST", DS + "/submit/cars/001.jpg")
    body = {"decision": "approve"}
    assert_problem(ann.post(DS + "/review/cars/001.jpg", json=body), 403, "forbidden")
    decided = rex.ok("POST", DS + "/review/cars/001.jpg", json=body)
    assert (decided["state"], decided["annotator"], decided["reviewer"]) == (
        "approved",
        "user:ann-annotator",
        "user:rex-reviewer",
    )
    assert vic.ok("GET", DS + "/items/cars/001.jpg")["state"] == "approved"  # viewers read


def test_a_stale_if_match_is_a_conflict_and_changes_nothing(team):
    ann, rex = team["ann"], team["rex"]
    r = ann.get(DS + "/items/cars/002.jpg")
    assert r.headers["etag"] == '"none"'
    first = ann.put(DS + "/labels/cars/002.jpg", json=doc(1), headers={"If-Match": '"none"'})
    assert first.status_code == 200 and first.headers["etag"] == f'"{first.json()["label_sha256"]}"'
    rex.ok(
        "PUT", DS + "/labels/cars/002.jpg", json=doc(2), headers={"If-Match": first.headers["etag"]}
    )
    before = ann.get(DS + "/items/cars/002.jpg")
    stale = ann.put(
        DS + "/labels/cars/002.jpg", json=doc(0), headers={"If-Match": first.headers["etag"]}
    )
    body = assert_problem(stale, 409, "conflict")
    assert "reload" in body["hint"]
    after = ann.get(DS + "/items/cars/002.jpg")
    assert after.headers["etag"] == before.headers["etag"]
    assert after.json()["labels"] == before.json()["labels"]
    assert after.json()["labels"]["objects"][0]["class"] == 2


OUTSIDE = {"objects": [{"type": "box", "class": 0, "box": [1.5, 0.5, 0.1, 0.1]}]}
CIRCLE = {"objects": [{"type": "box", "class": 0, "box": [0.5, 0.5, 0.1, 0.1]},
                      {"type": "circle", "class": 0}]}  # fmt: skip
T1 = "/trucks/001.jpg"
YESTERDAY = {"json": doc(0), "headers": {"If-Match": "yesterday"}}
APPROVE, MAYBE = {"json": {"decision": "approve"}}, {"json": {"decision": "maybe"}}
NO_COMMENT = {"json": {"decision": "reject", "comment": "  "}}

C1 = "/cars/001.jpg"

# fmt: off
BAD = [
    # id                    method  path                request            status  problem
    ("box-out-of-range",    "PUT",  "/labels" + T1,     {"json": OUTSIDE}, 400, "invalid-labels"),
    ("unknown-object-type", "PUT",  "/labels" + T1,     {"json": CIRCLE},  400, "invalid-labels"),
    ("not-an-object",       "PUT",  "/labels" + T1,     {"json": [1, 2]},  400, "invalid-input"),
    ("bad-if-match",        "PUT",  "/labels" + T1,     YESTERDAY,         422, "invalid-input"),
    ("missing-file-save",   "PUT",  "/labels/nope.jpg", {"json": doc(0)},  404, "not-found"),
    ("missing-file-item",   "GET",  "/items/nope.jpg",  {},                404, "not-found"),
    ("missing-file-submit", "POST", "/submit/nope.jpg", {},                404, "not-found"),
    ("submit-unlabelled",   "POST", "/submit" + T1,     {},                409, "review-refused"),
    ("review-unlabelled",   "POST", "/review" + T1,     APPROVE,           409, "review-refused"),
    ("reject-no-comment",   "POST", "/review" + C1,     NO_COMMENT,        400,
     "review-incomplete"),
    ("unknown-decision",    "POST", "/review" + C1,     MAYBE,             400, "invalid-input"),
    ("unknown-state",       "GET",  "/items?state=done", {},               422, "invalid-input"),
    ("no-model-yet",        "POST", "/prelabel" + C1,   {"json": {"model": "signs@3"}},
                                                                           404, "not-found"),
]
# fmt: on


@pytest.mark.parametrize(("method", "path", "request_", "status", "code"),
                         [pytest.param(*row[1:], id=row[0]) for row in BAD])  # fmt: skip
def test_bad_input(team, method, path, request_, status, code):
    rex = team["rex"]
    if rex.ok("GET", DS + "/items/cars/001.jpg")["label_sha256"] is None:
        rex.ok("PUT", DS + "/labels/cars/001.jpg", json=doc(0))  # so only the comment is wrong
    before = rex.ok("GET", DS + "/items")
    body = assert_problem(rex.call(method, DS + path, **request_), status, code)
    assert rex.ok("GET", DS + "/items") == before, "a refused call changed the queue"
    if code == "invalid-labels":
        assert body["location"].startswith("labels object ")
    if path.startswith("/prelabel"):
        assert "signs@3" in body["detail"]
        assert body["hint"] == "train or register a model first (`ahoy model list` shows them)"


def test_the_queue_filters_and_pages(team):
    ann, rex = team["ann"], team["rex"]
    ann.ok("PUT", DS + "/labels/trucks/001.jpg", json=doc(0))
    ann.ok("POST", DS + "/submit/trucks/001.jpg")
    rex.ok("POST", DS + "/review/trucks/001.jpg", json={"decision": "reject", "comment": "tail"})
    mine = ann.ok("GET", DS + "/items?state=rejected&annotator=me")["items"]
    assert [(i["path"], i["comment"]) for i in mine] == [("trucks/001.jpg", "tail")]
    assert rex.ok("GET", DS + "/items?state=rejected&annotator=me")["items"] == []
    named = rex.ok("GET", DS + "/items?annotator=ann-annotator&prefix=trucks/")["items"]
    assert [i["path"] for i in named] == ["trucks/001.jpg"]
    seen, cursor = [], None
    while True:
        page = rex.ok("GET", DS + "/items", params={"limit": 1, "cursor": cursor})
        seen += [i["path"] for i in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == sorted(IMAGES)
    stats = rex.ok("GET", DS + "/review/stats")
    assert any(r["reviewer"] == "user:rex-reviewer" for r in stats["reviewers"])


def test_autosave_of_a_1000_box_document_is_quick(team, capsys):
    ann = team["ann"]
    etag, times = '"none"', []
    ann.ok("PUT", DS + "/labels/cars/002.jpg", json=doc(n=1000))  # warm
    etag = ann.get(DS + "/items/cars/002.jpg").headers["etag"]
    for k in range(25):
        body = doc(k % 3, n=1000)
        t0 = time.perf_counter()
        r = ann.put(DS + "/labels/cars/002.jpg", json=body, headers={"If-Match": etag})
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.text
        etag = r.headers["etag"]
    p50 = statistics.median(times)
    with capsys.disabled():
        print(f"\nautosave p50 of a 1,000-box document over HTTP: {p50 * 1000:.1f} ms")
    assert p50 < 0.5


def test_the_same_labels_saved_again_change_nothing_and_approval_stays(team):
    """The studio sends no ``by``/``at``; labels equal to the stored ones apart from
    those are no change: the stored document, its digest and the approval stay."""
    alice, ann, rex = team["alice"], team["ann"], team["rex"]
    data = fresh()
    alice.ok("PUT", f"{A}/blobs/{sha(data)}", data=data, headers=RAW)
    one = {"name": "same/001.jpg", "sha256": sha(data), "size": len(data)}
    alice.ok("POST", DS + "/working/files", json={"files": [one]})
    path = DS + "/labels/same/001.jpg"
    first = ann.ok("PUT", path, json={**doc(0, 1), "by": "user:importer", "at": 1700000000.5})
    ann.ok("POST", DS + "/submit/same/001.jpg")
    rex.ok("POST", DS + "/review/same/001.jpg", json={"decision": "approve"})

    tag = {"If-Match": f'"{first["label_sha256"]}"'}
    again = ann.ok("PUT", path, json=doc(0, 1), headers=tag)
    assert (again["changed"], again["state"]) == (False, "approved")
    assert again["label_sha256"] == first["label_sha256"]
    item = ann.ok("GET", DS + "/items/same/001.jpg")
    assert (item["state"], item["label_sha256"]) == ("approved", first["label_sha256"])
    assert item["labels"]["by"] == "user:importer"
    assert [h["action"] for h in item["history"]].count("save") == 1

    moved = doc(0, 1)
    moved["objects"][0]["box"] = [0.5, 0.5, 0.1, 0.100001]  # a real change, however small
    changed = ann.ok("PUT", path, json=moved, headers=tag)
    assert (changed["changed"], changed["state"]) == (True, "in_progress")
