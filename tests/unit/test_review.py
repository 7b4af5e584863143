"""Annotation review, the pure part: the state machine, the queue, and which files a
commit limited to approved images takes."""

from __future__ import annotations

import pytest

from appliance.domain.labels.approval import select_approved
from appliance.domain.labels.queue import build_queue, check_state, queue_item
from appliance.domain.labels.review import (
    APPROVED,
    IN_PROGRESS,
    REJECTED,
    SUBMITTED,
    UNLABELLED,
    check_decision,
    check_submit,
    current_state,
)
from appliance.domain.manifest import ManifestRow, WorkingFile

pytestmark = pytest.mark.unit

A, B, C = "a" * 64, "b" * 64, "c" * 64


# -- the state machine ----------------------------------------------------------------


# fmt: off
SUBMITS = [
    (IN_PROGRESS, True,  None),
    (REJECTED,    True,  None),
    (None,        True,  None),                     # labelled by an import, never saved
    (IN_PROGRESS, False, "it has no labels to submit"),
    (SUBMITTED,   True,  "it is already submitted"),
    (APPROVED,    True,  "it is already approved"),
]
# fmt: on


@pytest.mark.parametrize(("state", "has_labels", "refused"), SUBMITS)
def test_submit(state, has_labels, refused):
    got = check_submit(state, has_labels)
    assert (got.problem if got else None) == refused
    assert got is None or not got.invalid


# fmt: off
DECISIONS = [
    ("approve", SUBMITTED,   True,  "",           None,                          False),
    ("approve", IN_PROGRESS, True,  "",           None,                          False),
    ("approve", REJECTED,    True,  "",           None,                          False),
    ("reject",  SUBMITTED,   True,  "box 3 off",  None,                          False),
    ("reject",  SUBMITTED,   True,  "  ",         "a rejection needs a comment", True),
    ("reject",  REJECTED,    True,  "again",      "it is already rejected",      False),
    ("approve", APPROVED,    True,  "",           "it is already approved",      False),
    ("approve", SUBMITTED,   False, "",           "it has no labels to review",  False),
    ("maybe",   SUBMITTED,   True,  "",           "decision 'maybe' is not known", True),
]
# fmt: on


@pytest.mark.parametrize(
    ("decision", "state", "has_labels", "comment", "refused", "invalid"), DECISIONS
)
def test_decision(decision, state, has_labels, comment, refused, invalid):
    got = check_decision(decision, state, has_labels, comment)
    assert (got.problem if got else None) == refused
    assert (got.invalid if got else False) is invalid
    assert got is None or got.hint


# fmt: off
STALE = [
    (None,      None, None, UNLABELLED),
    (None,      None, A,    IN_PROGRESS),
    (APPROVED,  A,    A,    APPROVED),
    (APPROVED,  A,    B,    IN_PROGRESS),   # relabelled by an import since: stale
    (REJECTED,  A,    B,    IN_PROGRESS),
    (SUBMITTED, A,    None, UNLABELLED),    # labels dropped since
    (REJECTED,  A,    A,    REJECTED),
]
# fmt: on


@pytest.mark.parametrize(("recorded", "reviewed", "labels", "shown"), STALE)
def test_a_state_about_other_labels_no_longer_holds(recorded, reviewed, labels, shown):
    assert current_state(recorded, reviewed, labels) == shown


# -- the queue ------------------------------------------------------------------------


def _review(state, sha, annotator="user:ann", **kw):
    return {"state": state, "label_sha256": sha, "annotator": annotator, **kw}


WORKING = [
    WorkingFile("b/2.jpg", "1" * 64, A, "image"),
    WorkingFile("a/1.jpg", "2" * 64, None, "image"),
    WorkingFile("b/3.png", "3" * 64, B, "image"),
    WorkingFile("clip.mp4", "4" * 64, None, "video"),
    WorkingFile("b/4.jpg", "5" * 64, C, "image"),
]
REVIEWS = {
    "b/2.jpg": _review(REJECTED, A, reviewer="user:rev", comment="box 3 is off"),
    "b/3.png": _review(APPROVED, A, reviewer="user:rev"),  # stale: labels are B now
    "b/4.jpg": _review(SUBMITTED, C, annotator="user:other"),
}


# fmt: off
QUEUES = [
    ({},                                      ["a/1.jpg", "b/2.jpg", "b/3.png", "b/4.jpg"]),
    ({"state": REJECTED},                     ["b/2.jpg"]),
    ({"state": REJECTED, "annotator": "user:ann"}, ["b/2.jpg"]),
    ({"state": REJECTED, "annotator": "user:other"}, []),
    ({"state": IN_PROGRESS},                  ["b/3.png"]),
    ({"state": UNLABELLED},                   ["a/1.jpg"]),
    ({"state": APPROVED},                     []),
    ({"annotator": "user:other"},             ["b/4.jpg"]),
    ({"prefix": "b/"},                        ["b/2.jpg", "b/3.png", "b/4.jpg"]),
]
# fmt: on


@pytest.mark.parametrize(("filters", "paths"), QUEUES)
def test_the_queue_filters_images_sorted_by_path(filters, paths):
    assert [i.path for i in build_queue(WORKING, REVIEWS, **filters)] == paths


def test_a_queue_item_says_what_the_reviewer_said_and_whether_it_is_stale():
    item = queue_item(WORKING[0], REVIEWS["b/2.jpg"])
    assert item.as_dict() == {
        "path": "b/2.jpg",
        "sha256": "1" * 64,
        "label_sha256": A,
        "state": REJECTED,
        "stale": False,
        "annotator": "user:ann",
        "reviewer": "user:rev",
        "comment": "box 3 is off",
        "updated_at": None,
    }
    stale = queue_item(WORKING[2], REVIEWS["b/3.png"])
    assert (stale.state, stale.stale) == (IN_PROGRESS, True)


def test_an_unknown_state_filter_is_named():
    assert check_state("done") == (
        "state 'done' is not one of unlabelled, in_progress, submitted, approved, rejected"
    )
    assert check_state(None) is None and check_state(SUBMITTED) is None


# -- commit --only-approved -----------------------------------------------------------


def _w(name, sha, label, role="image"):
    return WorkingFile(name, sha, label, role)


def _h(name, sha, label, role="image"):
    return ManifestRow(name, sha, label, role, "train")


X1A, X1B, X2B, X1 = (
    _w("x.jpg", "1", A),
    _w("x.jpg", "1", B),
    _w("x.jpg", "2", B),
    _w("x.jpg", "1", None),
)
HEAD = {"x.jpg": _h("x.jpg", "1", A)}
VIDEO = _w("v.mp4", "9", None, "video")

# fmt: off
SELECTIONS = [
    # working   approved        head   taken                   why
    # approved about the current labels: the working entry
    ([X1A],     {"x.jpg": A},    {},    [("x.jpg", "1", A)],    "approved"),
    # approved, but relabelled since: the head's entry
    ([X1B],     {"x.jpg": A},    HEAD,  [("x.jpg", "1", A)],    "from_head"),
    # approved, relabelled since, never committed: left out
    ([X1B],     {"x.jpg": A},    {},    [],                     "omitted"),
    # not approved, new content: the head's content and labels
    ([X2B],     {},              HEAD,  [("x.jpg", "1", A)],    "from_head"),
    # not approved, the same as the head: unchanged, nothing held back
    ([X1A],     {},              HEAD,  [("x.jpg", "1", A)],    "unchanged"),
    # not approved and unlabelled, never committed: left out
    ([X1],      {"x.jpg": None}, {},    [],                     "omitted"),
    # removed from the working area: stays removed
    ([],        {},              HEAD,  [],                     None),
    # not an image: nothing to review, taken as it is
    ([VIDEO],   {},              {},    [("v.mp4", "9", None)], None),
]
# fmt: on


@pytest.mark.parametrize(("working", "approved", "head", "taken", "why"), SELECTIONS)
def test_only_approved_selection(working, approved, head, taken, why):
    got = select_approved(working, approved, head)
    assert [(f.filename, f.sha256, f.label_sha256) for f in got.files] == taken
    lists = {
        "approved": got.approved,
        "from_head": got.from_head,
        "omitted": got.omitted,
        "unchanged": got.unchanged,
    }
    assert {k for k, v in lists.items() if v} == ({why} if why else set())
    assert got.held_back == len(got.from_head) + len(got.omitted)


def test_selection_keeps_name_order_and_the_heads_role():
    working = [_w("b.jpg", "1", A), _w("a.jpg", "2", B)]
    head = {"a.jpg": _h("a.jpg", "3", C)}
    got = select_approved(working, {"b.jpg": A}, head)
    assert [f.filename for f in got.files] == ["a.jpg", "b.jpg"]
    assert got.files[0] == WorkingFile("a.jpg", "3", C, "image")
