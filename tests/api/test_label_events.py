"""The annotation event stream against a real `ahoy serve`: content types, the batch
report, roles, and what a stranger sees (the isolation walk covers every
workspace operation; here the stream's own answers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from tests.api.conftest import World, sha
from tests.api.problems import RAW, A, assert_problem, fresh

pytestmark = pytest.mark.api

EV = A + "/datasets/stream/annotation-events"
MSGPACK = {"Content-Type": "application/x-msgpack"}
DOC = {"objects": [{"type": "box", "class": 0, "box": [0.5, 0.5, 0.5, 0.5]}]}


@pytest.fixture(scope="module")
def stream_ds(world: World) -> Iterator[str]:
    """A dataset in ws-a with two images."""
    alice = world.alice
    alice.ok("POST", A + "/datasets", 201, json={"name": "stream"})
    files = []
    for i in range(2):
        data = fresh(1000)
        alice.ok("PUT", f"{A}/blobs/{sha(data)}", data=data, headers=RAW)
        files.append({"name": f"img/{i}.jpg", "sha256": sha(data), "size": len(data)})
    alice.ok("POST", A + "/datasets/stream/working/files", json={"files": files})
    yield "stream"


def send(world: World, stream: str = "cam", **kwargs: Any) -> Any:
    return world.alice.post(EV, params={"stream": stream}, **kwargs)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/octet-stream", "application/x-www-form-urlencoded"]
)
def test_other_content_types_are_415(world: World, stream_ds: str, content_type: str):
    r = send(world, data=b'{"events": []}', headers={"Content-Type": content_type})
    body = assert_problem(r, 415, "unsupported-media-type")
    assert "application/msgpack" in body["hint"] and "application/json" in body["hint"]


def test_a_bad_batch_is_one_400_report_and_changes_nothing(world: World, stream_ds: str):
    events = [
        {"id": "ok", "file": "img/0.jpg", "op": "set", "labels": DOC},
        {0: "pos", 1: "img/nope.jpg", 2: "clear"},
        {"id": "ok", "file": "img/1.jpg", "op": "clear"},
    ]
    before = world.alice.ok("GET", A + "/datasets/stream/working/files")
    r = send(world, stream="bad", data=msgspec.msgpack.encode(events), headers=MSGPACK)
    body = assert_problem(r, 400, "events-rejected")
    assert body["problems"] == [
        {"path": "events[1]", "problem": "event 'pos': 'img/nope.jpg' is not in the working area"},
        {"path": "events[2]", "problem": "event 'ok': its id is also event 0's"},
    ]
    assert "nothing of it was applied" in body["hint"]
    assert world.alice.ok("GET", A + "/datasets/stream/working/files") == before
    assert world.alice.ok("GET", EV + "/bad")["events"] == 0


def test_malformed_bodies_are_400(world: World, stream_ds: str):
    for data, headers in (
        (b"\xc1", MSGPACK),
        (b'{"events": ', {"Content-Type": "application/json"}),
        (b'{"events": 3}', {"Content-Type": "application/json"}),
    ):
        assert_problem(send(world, data=data, headers=headers), 400, "invalid-input")


def test_a_batch_applies_once_and_the_offset_says_where_to_resume(world: World, stream_ds: str):
    events = [
        {"id": f"cam-{i}", "file": f"img/{i}.jpg", "op": "set", "labels": DOC, "offset": 40 + i}
        for i in range(2)
    ]
    first = world.alice.ok("POST", EV, params={"stream": "cam"}, json={"events": events})
    again = world.alice.ok(
        "POST", EV, params={"stream": "cam"}, data=msgspec.msgpack.encode(events), headers=MSGPACK
    )
    assert (first["accepted"], first["offset"]) == (2, 41)
    assert (again["accepted"], again["duplicates"], again["offset"]) == (0, 2, 41)
    state = world.vic.ok("GET", EV + "/cam")  # a viewer may read where to resume
    assert (state["offset"], state["events"], state["last_event_id"]) == (41, 2, "cam-1")


def test_a_viewer_may_not_send_and_a_stranger_finds_nothing(world: World, stream_ds: str):
    body = {"events": [{"id": "v", "file": "img/0.jpg", "op": "clear"}]}
    r = world.vic.post(EV, params={"stream": "cam"}, json=body)
    assert assert_problem(r, 403, "forbidden")["permission"] == "label.write"
    r = world.bob.post(EV, params={"stream": "cam"}, json=body)
    assert_problem(r, 404, "not-found")
    assert_problem(world.bob.get(EV + "/cam"), 404, "not-found")
