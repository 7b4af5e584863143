"""Annotation work on a real SQLite catalog and local blobs: save, submit, review,
conflicts, an import that makes a review stale, figures, commit --only-approved,
and pre-labelling through a fake model."""

from __future__ import annotations

import dataclasses
import hashlib
import os

import pytest

from appliance.domain.labels.document import LabelDocument, LabelObject
from appliance.errors import (
    Conflict,
    LabelsRejected,
    NotFound,
    NothingToCommit,
    ReviewIncomplete,
    ReviewRefused,
)
from appliance.ports.blobstore import BlobPut
from appliance.services import annotate, datasets, label_schema, staging, versions
from appliance.services.label_edit import ANY
from appliance.services.prelabel import prelabel

pytestmark = pytest.mark.integration

ANN, REV = "user:ann", "user:rev"


def _doc(*classes: int) -> dict:
    objs = [{"type": "box", "class": c, "box": [0.1 + 0.2 * i, 0.5, 0.1, 0.1]} for i, c in
            enumerate(classes)]  # fmt: skip
    return {"format": "ahoy.labels/1", "objects": objs}


@pytest.fixture
def images(engine) -> dict[str, str]:
    """A dataset ``ds`` with three unlabelled images and one text file in its working area."""
    blobs = {n: os.urandom(500 + i) for i, n in enumerate(["a.jpg", "b.jpg", "c/d.jpg", "x.txt"])}

    async def put(ctx):
        ctx.blobs.put_many(
            engine.ws,
            [BlobPut(hashlib.sha256(b).hexdigest(), len(b), data=b) for b in blobs.values()],
        )

    engine.with_ctx(put)
    engine(datasets.create, "ds", "me")
    entries = [staging.Entry(n, hashlib.sha256(b).hexdigest(), len(b)) for n, b in blobs.items()]
    engine(staging.stage_uploaded, "ds", entries, "me")
    return {n: hashlib.sha256(b).hexdigest() for n, b in blobs.items()}


def _states(engine, **filters) -> dict[str, str]:
    return {i.path: i.state for i in engine(annotate.queue, "ds", **filters)}


def test_save_submit_reject_fix_approve(engine, images):
    assert _states(engine) == {
        "a.jpg": "unlabelled",
        "b.jpg": "unlabelled",
        "c/d.jpg": "unlabelled",
    }
    first = engine(annotate.save, "ds", "a.jpg", _doc(0), ANN, expect=None)
    assert (first["changed"], first["previous"], first["state"]) == (True, None, "in_progress")
    again = engine(annotate.save, "ds", "a.jpg", _doc(0), ANN, expect=first["label_sha256"])
    assert not again["changed"] and again["label_sha256"] == first["label_sha256"]
    assert engine(annotate.submit, "ds", "a.jpg", ANN).state == "submitted"
    with pytest.raises(ReviewRefused, match="already submitted"):
        engine(annotate.submit, "ds", "a.jpg", ANN)
    with pytest.raises(ReviewIncomplete, match="needs a comment"):
        engine(annotate.review, "ds", "a.jpg", "reject", " ", REV)
    rejected = engine(annotate.review, "ds", "a.jpg", "reject", "class 0 is wrong", REV)
    assert (rejected.state, rejected.annotator, rejected.reviewer) == ("rejected", ANN, REV)
    assert _states(engine, state="rejected", annotator=ANN) == {"a.jpg": "rejected"}
    view = engine(annotate.item, "ds", "a.jpg")
    assert view.item.comment == "class 0 is wrong" and view.document["objects"][0]["class"] == 0
    assert [h["action"] for h in view.history] == ["save", "submit", "reject"]
    fixed = engine(annotate.save, "ds", "a.jpg", _doc(1), ANN, expect=first["label_sha256"])
    assert fixed["state"] == "in_progress"
    engine(annotate.submit, "ds", "a.jpg", ANN)
    approved = engine(
        annotate.review, "ds", "a.jpg", "approve", "", REV, expect=fixed["label_sha256"]
    )
    assert (approved.state, approved.label_sha256) == ("approved", fixed["label_sha256"])
    with pytest.raises(ReviewRefused, match="no labels"):
        engine(annotate.review, "ds", "b.jpg", "approve", "", REV)


def test_a_stale_if_match_changes_nothing(engine, images):
    saved = engine(annotate.save, "ds", "a.jpg", _doc(0), ANN, expect=None)
    blobs = engine.blob_count()
    with pytest.raises(Conflict, match="changed since you opened them") as info:
        engine(annotate.save, "ds", "a.jpg", _doc(2), ANN, expect=None)
    assert "reload" in info.value.hint
    assert engine.blob_count() == blobs  # the refused document was taken back
    assert engine(annotate.item, "ds", "a.jpg").item.label_sha256 == saved["label_sha256"]
    with pytest.raises(Conflict):
        engine(annotate.review, "ds", "a.jpg", "approve", "", REV, expect="0" * 64)


OUTSIDE = {"type": "box", "class": 0, "box": [2, 0, 1, 1]}
UNKNOWN_CLASS = {"type": "box", "class": 7, "box": [0.5, 0.5, 0.1, 0.1]}

# fmt: off
BAD_DOCUMENTS = [
    # document                        where the problem is
    ({"objects": [OUTSIDE]},          "labels object 0"),
    ({"objects": "many"},             "labels"),
    ({"format": "yolo"},              "labels"),
    ({"objects": [UNKNOWN_CLASS]},    "labels object 0"),  # not a class of the schema
]
# fmt: on


@pytest.mark.parametrize(("doc", "location"), BAD_DOCUMENTS)
def test_bad_documents_are_refused_with_where(engine, images, doc, location):
    engine(label_schema.set_schema, "ds", "me", schema={"classes": [{"id": 0, "name": "car"}]})
    with pytest.raises(LabelsRejected) as info:
        engine(annotate.save, "ds", "a.jpg", doc, ANN)
    assert info.value.location == location
    with pytest.raises(NotFound):
        engine(annotate.save, "ds", "nope.jpg", _doc(0), ANN)


def test_an_import_over_reviewed_labels_makes_the_review_stale(engine, images):
    saved = engine(annotate.save, "ds", "a.jpg", _doc(0), ANN)
    engine(annotate.review, "ds", "a.jpg", "approve", "", REV)
    other = LabelDocument((LabelObject("box", 1, (0.5, 0.5, 0.2, 0.2)),))

    async def put(ctx):
        data = other.to_bytes()
        ctx.blobs.put_many(engine.ws, [BlobPut(other.sha256, len(data), data=data)])

    engine.with_ctx(put)
    entry = staging.Entry("a.jpg", images["a.jpg"], 500, other.sha256, len(other.to_bytes()))
    engine(staging.stage_uploaded, "ds", [entry], "importer")
    item = engine(annotate.item, "ds", "a.jpg").item
    assert (item.state, item.stale, item.label_sha256) == ("in_progress", True, other.sha256)
    assert saved["label_sha256"] != other.sha256


def test_commit_only_approved_takes_approved_images_and_keeps_the_rest_at_head(engine, images):
    engine(annotate.save, "ds", "a.jpg", _doc(0), ANN)
    engine(annotate.save, "ds", "b.jpg", _doc(1), ANN)
    engine(annotate.review, "ds", "a.jpg", "approve", "", REV)
    v1 = engine(versions.commit, "ds", "approved only", "me", only_approved=True)
    _, rows = engine(versions.manifest, "ds", str(v1.number))
    assert {r.filename: r.label_sha256 is not None for r in rows} == {"a.jpg": True, "x.txt": False}
    with pytest.raises(NothingToCommit) as info:
        engine(versions.commit, "ds", "again", "me", only_approved=True)
    assert "wait for approval" in info.value.hint
    # a.jpg relabelled but not approved: v2 keeps v1's a.jpg; b.jpg approved now joins
    engine(annotate.save, "ds", "a.jpg", _doc(2), ANN)
    engine(annotate.review, "ds", "b.jpg", "approve", "", REV)
    v2 = engine(versions.commit, "ds", "b too", "me", only_approved=True)
    _, rows2 = engine(versions.manifest, "ds", str(v2.number))
    by_name = {r.filename: r for r in rows2}
    assert set(by_name) == {"a.jpg", "b.jpg", "x.txt"}
    assert by_name["a.jpg"] == {r.filename: r for r in rows}["a.jpg"]
    # the whole working area still commits as before
    v3 = engine(versions.commit, "ds", "everything", "me")
    assert v3.file_count == 4


def test_figures_come_from_the_activity(engine, images):
    engine(annotate.save, "ds", "a.jpg", _doc(0), ANN)
    engine(annotate.submit, "ds", "a.jpg", ANN)
    engine(annotate.review, "ds", "a.jpg", "reject", "no", REV)
    engine(annotate.save, "ds", "a.jpg", _doc(1), ANN)
    engine(annotate.review, "ds", "a.jpg", "approve", "", REV)
    got = engine(annotate.stats, "ds", None).as_dict()
    (ann,) = got["annotators"]
    assert (ann["files_saved"], ann["saves"], ann["submitted"]) == (1, 2, 1)
    assert (ann["approved"], ann["rejected"], ann["rejection_rate"]) == (1, 1, 0.5)
    assert got["reviewers"][0] == {
        "reviewer": REV, "approvals": 1, "rejections": 1, "files_reviewed": 1
    }  # fmt: skip
    assert engine(annotate.stats, "ds", 2**40).as_dict()["annotators"] == []


class FakeModel:
    ref = "fake@1"

    def propose(self, image, schema, *, min_score):
        assert image and min_score == 0.5
        score = (("score", 0.9),)
        return [
            LabelObject("box", 0, (0.1, 0.5, 0.1, 0.1), attributes=score),  # over a person's box
            LabelObject("box", 2, (0.8, 0.8, 0.1, 0.1), attributes=score),
        ]


class FakeRegistry:
    def lookup(self, ws, ref):
        return FakeModel() if ref == "fake@1" else None


def test_prelabel_adds_proposals_beside_human_objects(engine, images):
    engine(annotate.save, "ds", "a.jpg", _doc(0), ANN)

    async def run(ctx):
        ctx = dataclasses.replace(ctx, models=FakeRegistry())
        return await prelabel(ctx, engine.ws, "ds", "a.jpg", "fake@1", ANN, min_score=0.5)

    r = engine.with_ctx(run)
    assert (r["proposed"], r["skipped"], r["changed"]) == (1, 1, True)
    objs = engine(annotate.item, "ds", "a.jpg").document["objects"]
    assert [o.get("attributes", {}).get("proposal", False) for o in objs] == [False, True]
    assert engine(annotate.item, "ds", "a.jpg").history[-1]["action"] == "prelabel"
    with pytest.raises(NotFound) as info:
        engine(prelabel, "ds", "a.jpg", "fake@1", ANN)  # the appliance has no models yet
    assert "train or register a model first" in info.value.hint
    assert engine(annotate.save, "ds", "a.jpg", _doc(0), ANN, expect=ANY)["changed"]
