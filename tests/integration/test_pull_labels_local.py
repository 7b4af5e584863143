"""A pull through the services (the appliance's own, on its disk) writes what a
pull over HTTP writes: each file's label document as stored and the manifest, in
.ahoy/, never through a link planted there."""

from __future__ import annotations

import json

import pytest

from appliance.domain.pulled import fingerprint_of
from appliance.errors import UnsafeDestination
from appliance.services import annotate, pull, versions
from tests.conftest import pulled_digests

pytestmark = pytest.mark.integration


def _box(cls: int) -> dict[str, object]:
    return {"objects": [{"type": "box", "class": cls, "box": [0.5, 0.5, 0.2, 0.25]}]}


def test_a_local_pull_writes_the_stored_label_documents_and_the_manifest(engine, tmp_path):
    digests = engine.seed(tmp_path / "src", 8)
    labelled = sorted(digests)[:3]
    for i, name in enumerate(labelled):
        engine(annotate.save, "ds", name, _box(i), "me")
    v2 = engine(versions.commit, "ds", "labelled", "me")
    dest = tmp_path / "out"
    report = engine(pull.pull, "ds", "2", dest, layout="split")
    assert (report.files, report.labels, report.meta) == (8, 3, str(dest / ".ahoy"))
    _, rows = engine(versions.manifest, "ds", "2")
    wanted = {r.label_sha256 for r in rows if r.label_sha256}

    async def stored(ctx):
        return dict(ctx.blobs.read_many(engine.ws, wanted))

    docs = engine.with_ctx(stored)
    for r in rows:
        label = dest / ".ahoy" / "labels" / f"{r.filename}.json"
        if r.label_sha256:
            assert label.read_bytes() == docs[r.label_sha256]
        else:
            assert not label.exists()
    doc = json.loads((dest / ".ahoy" / "manifest.json").read_text())
    assert fingerprint_of(doc) == v2.manifest_hash == report.manifest_hash
    assert pulled_digests(dest) == {f"{r.split}/{r.filename}": r.sha256 for r in rows}
    bare = engine(pull.pull, "ds", "2", tmp_path / "bare", bare=True)
    assert bare.meta is None and not (tmp_path / "bare" / ".ahoy").exists()


def test_a_link_where_the_pull_keeps_its_manifest_is_refused(engine, tmp_path):
    engine.seed(tmp_path / "src", 4)
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / ".ahoy").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeDestination) as refused:
        engine(pull.pull, "ds", "1", dest, force=True)
    assert str(dest / ".ahoy") in refused.value.message
    assert list(outside.iterdir()) == []
