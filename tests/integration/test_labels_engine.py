"""Label documents as versioned content in the engine: staged with their image,
checked on the way in, diffed as relabels, and held against GC like any blob."""

from __future__ import annotations

import hashlib
import os

import pytest

from appliance.domain.labels.document import LabelDocument, LabelObject
from appliance.errors import BlobsNotUploaded, ImportRejected
from appliance.ports.blobstore import BlobPut
from appliance.services import datasets, gc, staging, versions

pytestmark = pytest.mark.integration


def _put(engine, *blobs: bytes) -> list[str]:
    async def put(ctx):
        ctx.blobs.put_many(
            engine.ws, [BlobPut(hashlib.sha256(b).hexdigest(), len(b), data=b) for b in blobs]
        )

    engine.with_ctx(put)
    return [hashlib.sha256(b).hexdigest() for b in blobs]


def _labels(cls: int, cx: float = 0.5) -> bytes:
    return LabelDocument((LabelObject("box", cls, (cx, 0.5, 0.2, 0.2)),)).to_bytes()


def test_a_relabel_is_a_label_change_in_the_diff_and_both_documents_stay(engine):
    image = os.urandom(3000)
    first, second = _labels(1), _labels(2)
    img, l1, l2 = _put(engine, image, first, second)
    engine(datasets.create, "ds", "me")
    entry = staging.Entry("a.jpg", img, len(image), l1, len(first))
    engine(staging.stage_uploaded, "ds", [entry], "me")
    engine(versions.commit, "ds", "labelled", "me")
    relabel = staging.Entry("a.jpg", img, len(image), l2, len(second))
    engine(staging.stage_uploaded, "ds", [relabel], "me")
    engine(versions.commit, "ds", "relabelled", "me")
    d = engine(versions.diff, "ds", "1", "2")
    assert [c.kinds for c in d.modified] == [("label",)]
    assert (d.modified[0].old.label_sha256, d.modified[0].new.label_sha256) == (l1, l2)
    engine(gc.collect, "me", 0)
    assert engine.blob_count() == 3  # v1 still holds the first labels
    engine(datasets.remove_version, "ds", "1", "me")
    report = engine(gc.collect, "me", 0)
    assert report.reclaimed_blobs == 1 and engine.blob_count() == 2
    assert engine(gc.verify, deep=True).ok


def test_labels_must_be_uploaded_and_valid(engine):
    image = os.urandom(100)
    broken = b'{"objects": [{"type": "box", "class": 1, "box": [2, 0, 1, 1]}]}'
    img, bad = _put(engine, image, broken)
    engine(datasets.create, "ds", "me")
    with pytest.raises(BlobsNotUploaded) as info:
        entry = staging.Entry("a.jpg", img, 100, "0" * 64, 10)
        engine(staging.stage_uploaded, "ds", [entry], "me")
    assert "label document" in str(info.value)
    with pytest.raises(ImportRejected) as info:
        engine(staging.stage_uploaded, "ds", [staging.Entry("a.jpg", img, 100, bad, 60)], "me")
    assert "0..1" in str(info.value)
    assert engine(datasets.status, "ds").working_files == 0
