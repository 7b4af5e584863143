"""Annotator and reviewer figures from the activity log, and model proposals merged
into a person's labels: pure functions, no I/O."""

from __future__ import annotations

import pytest

from appliance.domain.labels.document import LabelDocument, LabelObject
from appliance.domain.labels.prelabel import is_proposal, merge_proposals
from appliance.domain.labels.review_stats import (
    FIRST_ACTION,
    IDLE_GAP,
    Activity,
    active_seconds,
    review_stats,
)

pytestmark = pytest.mark.unit

ANN, BOB, REV = "user:ann", "user:bob", "user:rev"


def _log(*rows):
    return [Activity(f, actor, action, at) for f, actor, action, at in rows]


LOG = _log(
    ("a.jpg", ANN, "save", 0),
    ("a.jpg", ANN, "save", 30),
    ("b.jpg", ANN, "save", 60),
    ("a.jpg", ANN, "submit", 90),
    ("b.jpg", ANN, "submit", 120),
    ("c.jpg", BOB, "ingest", 150),
    ("a.jpg", REV, "reject", 200),
    ("b.jpg", REV, "approve", 210),
    ("c.jpg", REV, "approve", 220),
    ("a.jpg", ANN, "save", 4000),  # after a break: a second session
    ("a.jpg", ANN, "submit", 4010),
    ("a.jpg", REV, "approve", 4100),
)


def test_per_annotator_and_per_reviewer_figures():
    got = review_stats(LOG).as_dict()
    ann, bob = got["annotators"]
    assert ann == {
        "annotator": ANN,
        "files_saved": 2,
        "saves": 4,
        "prelabels": 0,
        "submitted": 3,
        "approved": 2,
        "rejected": 1,
        "rejection_rate": round(1 / 3, 4),
        # session one: 0..120 s, session two: 4000..4010 s, each plus a minute
        "active_hours": round((120 + 60 + 10 + 60) / 3600, 4),
        "files_per_active_hour": round(2 * 3600 / 250, 2),
    }
    assert (bob["annotator"], bob["saves"], bob["approved"], bob["rejected"]) == (BOB, 1, 1, 0)
    assert got["reviewers"] == [
        {"reviewer": REV, "approvals": 3, "rejections": 1, "files_reviewed": 3}
    ]


def test_the_window_counts_what_happened_since_but_remembers_who_saved():
    got = review_stats(LOG, since=3000).as_dict()
    (ann,) = got["annotators"]
    assert (ann["saves"], ann["submitted"], ann["approved"], ann["rejected"]) == (1, 1, 1, 0)
    assert got["reviewers"][0]["approvals"] == 1 and got["since"] == 3000


# fmt: off
SESSIONS = [
    ([],                  0),
    ([5],                 FIRST_ACTION),
    ([0, 100, 200],       200 + FIRST_ACTION),
    ([0, IDLE_GAP],       IDLE_GAP + FIRST_ACTION),           # a gap of exactly IDLE_GAP
    ([0, IDLE_GAP + 1],   2 * FIRST_ACTION),                  # a longer gap is a break
    ([300, 0, 100],       300 + FIRST_ACTION),                # order does not matter
]
# fmt: on


@pytest.mark.parametrize(("times", "seconds"), SESSIONS)
def test_active_time_is_sessions_of_actions(times, seconds):
    assert active_seconds(times) == seconds


def test_no_decisions_no_rate_and_unknown_actions_are_ignored():
    got = review_stats(_log(("a.jpg", ANN, "save", 0), ("a.jpg", ANN, "teleport", 5)))
    (ann,) = got.annotators
    assert ann.rejection_rate is None and ann.saves == 1 and ann.times == [0]
    # a decision on labels nobody saved (they came with an import) counts for the reviewer only
    only = review_stats(_log(("z.jpg", REV, "approve", 0)))
    assert only.annotators == [] and only.reviewers[0].approvals == 1


# -- pre-labelling: proposals beside a person's objects ---------------------------------


def _box(cls, cx, **attrs):
    return LabelObject("box", cls, (cx, 0.5, 0.2, 0.2), attributes=tuple(sorted(attrs.items())))


def test_proposals_join_human_objects_and_never_replace_them():
    human = _box(0, 0.2)
    current = LabelDocument((human, _box(1, 0.8, proposal=True, score=0.3, model="old")))
    proposals = [
        _box(0, 0.21, score=0.9),  # the person already drew it: skipped
        _box(1, 0.21, score=0.8),  # same place, other class: kept
        _box(2, 0.5, score=1.7),  # a score past 1 is clamped
    ]
    merged = merge_proposals(current, proposals, "m@1")
    objs = merged.document.objects
    assert objs[0] == human
    assert [o.cls for o in objs[1:]] == [1, 2] and all(is_proposal(o) for o in objs[1:])
    assert dict(objs[1].attributes) == {"proposal": True, "score": 0.8, "model": "m@1"}
    assert dict(objs[2].attributes)["score"] == 1.0
    assert (merged.added, merged.skipped, merged.replaced) == (2, 1, 1)


def test_an_accepted_proposal_is_a_human_object():
    accepted = _box(1, 0.5, score=0.8, model="m@1")  # the annotator removed `proposal`
    merged = merge_proposals(LabelDocument((accepted,)), [_box(1, 0.5, score=0.9)], "m@1")
    assert merged.document.objects == (accepted,) and merged.skipped == 1


def test_no_labels_yet_and_equal_runs_hash_equal():
    first = merge_proposals(None, [_box(0, 0.5, score=0.51234567)], "m@1").document
    again = merge_proposals(first, [_box(0, 0.5, score=0.51234567)], "m@1").document
    assert first.sha256 == again.sha256 and dict(first.objects[0].attributes)["score"] == 0.5123
