"""Annotation events: named and positional keys, every problem of a batch collected,
and what a batch does to a stream (duplicates, positions, rewinds, each file's labels)."""

from __future__ import annotations

import pytest

from appliance.domain.labels.document import LabelDocument, LabelObject
from appliance.domain.labels.event_plan import plan_batch
from appliance.domain.labels.events import (
    MAX_ID,
    POSITIONAL,
    LabelEvent,
    check_stream,
    offset_of,
    parse_events,
    with_offset,
)
from appliance.errors import InvalidInput

pytestmark = pytest.mark.unit

BOX = {"type": "box", "class": 2, "box": [0.5, 0.5, 0.2, 0.1]}
DOC = {"objects": [BOX]}


def ev(i: int, **kw: object) -> dict[str, object]:
    return {"id": f"e{i}", "file": f"img/{i}.jpg", "op": "set", "labels": DOC} | kw


def test_named_and_positional_keys_parse_to_the_same_event():
    named = {"id": "a", "file": "x.jpg", "op": "set", "labels": DOC, "offset": 7, "at": 12.5}
    positional = {0: "a", 1: "x.jpg", 2: "set", 3: DOC, 5: 7, 6: 12.5}
    as_strings = {str(k): v for k, v in positional.items()}  # JSON spells them "0", "1", ...
    (a,), (b,), (c,) = (parse_events([e])[0] for e in (named, positional, as_strings))
    assert a == b == c
    assert a == LabelEvent(
        0, "a", "x.jpg", "set", LabelDocument((LabelObject("box", 2, (0.5, 0.5, 0.2, 0.1)),)),
        offset=7, at=12.5,
    )  # fmt: skip


def test_the_positional_table_covers_every_field_once():
    assert sorted(POSITIONAL) == list(range(len(POSITIONAL)))
    assert set(POSITIONAL.values()) == {"id", "file", "op", "labels", "objects", "offset", "at"}


# fmt: off
BAD = [
    #  event                                                   expected problem (a part of it)
    ("not a map",                                              "an event is a map"),
    ({0: "a", "file": "x.jpg", "op": "clear"},                 "mixes named and positional"),
    ({"file": "x.jpg", "op": "clear"},                         "id: is required"),
    ({"id": "x" * (MAX_ID + 1), "file": "x.jpg", "op": "clear"}, "id: is required"),
    ({"id": "a", "op": "clear"},                               "file: is required"),
    ({"id": "a", "file": "../x.jpg", "op": "clear"},           "file: empty, '.' or '..'"),
    ({"id": "a", "file": "x.jpg", "op": "paint"},              "op: 'paint' is not one of"),
    ({"id": "a", "file": "x.jpg", "op": "set"},                "labels: a label document is"),
    ({"id": "a", "file": "x.jpg", "op": "set", "labels": {"objects": [{"type": "box",
      "class": 1, "box": [2, 0, 1, 1]}]}},                      "normalized to 0..1"),
    ({"id": "a", "file": "x.jpg", "op": "clear", "labels": DOC}, "only 'set' takes a document"),
    ({"id": "a", "file": "x.jpg", "op": "add"},                "'add' needs a non-empty list"),
    ({"id": "a", "file": "x.jpg", "op": "add", "objects": [{"type": "box"}]}, "objects[0]"),
    ({"id": "a", "file": "x.jpg", "op": "set", "labels": DOC, "objects": [BOX]},
                                                               "only 'add' takes objects"),
    ({"id": "a", "file": "x.jpg", "op": "clear", "offset": -1}, "offset: is an integer"),
    ({"id": "a", "file": "x.jpg", "op": "clear", "offset": True}, "offset: is an integer"),
    ({"id": "a", "file": "x.jpg", "op": "clear", "at": "now"},  "at: is a time"),
    ({"id": "a", "file": "x.jpg", "op": "clear", "colour": 1},  "unknown colour"),
    ({9: "a"},                                                 "unknown #9"),
]
# fmt: on


@pytest.mark.parametrize(("event", "expected"), BAD)
def test_a_bad_event_is_a_problem_with_its_index(event, expected):
    events, problems = parse_events([ev(0), event])
    assert [e.id for e in events] == ["e0"]
    (p,) = problems
    assert p.index == 1 and p.where() == "events[1]"
    assert expected in p.problem, p.problem


def test_every_problem_of_a_batch_is_collected_not_just_the_first():
    batch = [ev(0), ev(1, op="paint"), "junk", ev(3), ev(4, offset=-2), ev(0, file="y.jpg")]
    events, problems = parse_events(batch)
    assert [e.id for e in events] == ["e0", "e3"]
    assert [(p.index, p.id) for p in problems] == [(1, "e1"), (2, None), (4, "e4"), (5, "e0")]
    assert problems[-1].problem == "its id is also event 0's"
    assert problems[-1].text() == "event 'e0': its id is also event 0's"


def test_offsets_can_be_read_and_set_in_either_form():
    assert offset_of({"id": "a", "offset": 4}) == 4
    assert offset_of({0: "a", 5: 4}) == offset_of({"0": "a", "5": 4}) == 4
    assert offset_of({"id": "a"}) is None and offset_of({"offset": -1}) is None
    assert with_offset({"id": "a"}, 3) == {"id": "a", "offset": 3}
    assert with_offset({0: "a"}, 3) == {0: "a", 5: 3}
    assert with_offset({"0": "a"}, 3) == {"0": "a", "5": 3}


@pytest.mark.parametrize("name", ["studio", "rmq-azaion.annotations", "a", "0_x"])
def test_good_stream_names(name):
    assert check_stream(name) == name


@pytest.mark.parametrize("name", ["", "Studio", "-x", "a/b", "x" * 65, "é"])
def test_bad_stream_names(name):
    with pytest.raises(InvalidInput, match="stream name"):
        check_stream(name)


# --- planning ------------------------------------------------------------------------

FILES = {f"img/{i}.jpg" for i in range(10)}


def plan(batch, *, known=(), offset=None, current=None):
    events, problems = parse_events(batch)
    assert not problems
    return plan_batch(
        events,
        files=FILES,
        current=current or {},
        known_ids=set(known),
        offset=offset,
        by="user:ann",
        now=100.0,
    )


def test_positions_follow_offsets_or_count_on_from_the_highest():
    p = plan([ev(0), ev(1, offset=10), ev(2)], offset=None)
    assert [x.position for x in p.new] == [0, 10, 11] and p.offset == 11
    p = plan([ev(0), ev(1)], offset=41)
    assert [x.position for x in p.new] == [42, 43]


def test_known_ids_are_duplicates_whatever_they_say():
    p = plan([ev(0, offset=1), ev(1, offset=2), ev(2, offset=3)], known={"e0", "e1"}, offset=2)
    assert p.duplicates == ("e0", "e1") and [x.event.id for x in p.new] == ["e2"]
    assert not p.problems


def test_a_new_id_at_or_below_the_offset_is_a_rewind_and_refused():
    p = plan([ev(0, offset=5), ev(1, offset=9)], offset=5)
    (problem,) = p.problems
    assert problem.index == 0 and "rewound with other ids" in problem.problem
    p = plan([ev(0, offset=7), ev(1, offset=7)], offset=None)
    assert [x.problem for x in p.problems] == ["offset 7 is not past event 0's offset 7"]


def test_a_file_not_in_the_working_area_is_a_problem():
    p = plan([ev(0, file="nope.jpg")])
    assert [x.problem for x in p.problems] == ["'nope.jpg' is not in the working area"]


def test_events_of_one_file_apply_in_order():
    old = LabelDocument((LabelObject("box", 0, (0.1, 0.1, 0.1, 0.1)),), by="old", at=1.0)
    batch = [
        {"id": "a", "file": "img/1.jpg", "op": "add", "objects": [BOX]},
        {"id": "b", "file": "img/1.jpg", "op": "add", "objects": [BOX], "at": 50},
        {"id": "c", "file": "img/2.jpg", "op": "clear"},
        {"id": "d", "file": "img/3.jpg", "op": "set", "labels": DOC},
        {"id": "e", "file": "img/3.jpg", "op": "clear"},
    ]
    p = plan(batch, current={"img/1.jpg": old})
    first, second = p.new[0].labels, p.final["img/1.jpg"].labels
    assert first is not None and second is not None
    assert [o.cls for o in first.objects] == [0, 2]
    assert [o.cls for o in second.objects] == [0, 2, 2]
    assert (second.by, second.at) == ("user:ann", 50.0)  # who sent it, when it was made
    assert p.final["img/2.jpg"].labels is None and p.final["img/2.jpg"].sha256 is None
    assert p.final["img/3.jpg"].event.id == "e" and p.final["img/3.jpg"].labels is None
    assert p.new[3].sha256 == p.new[3].labels.sha256  # the one hash, computed once
    assert [r[3] for r in p.rows()] == ["add", "add", "clear", "set", "clear"]


def test_a_document_that_says_who_made_it_keeps_that():
    p = plan([ev(1, labels={**DOC, "by": "tool:cvat", "at": 5.0})])
    assert (p.new[0].labels.by, p.new[0].labels.at) == ("tool:cvat", 5.0)
    p = plan([ev(1)])
    assert (p.new[0].labels.by, p.new[0].labels.at) == ("user:ann", 100.0)
