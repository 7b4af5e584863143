"""The data engine's services on a real SQLite file and a real blob store (local
disk here; the SeaweedFS path runs in tests/e2e): versions, diff, tags, GC, lineage
and erasure. Files get into the store as an upload puts them there
(``tests.conftest.stage_files``); uploads and pulls themselves, the SDK's, are
tested end to end in tests/e2e."""

from __future__ import annotations

import pytest

from appliance.errors import InvalidInput, NotFound, NothingToCommit, VersionHeld
from appliance.services import datasets, erasure, gc, versions
from tests.conftest import stage_files, tree_digests

pytestmark = pytest.mark.integration


def test_duplicate_bytes_are_one_file_and_one_split(engine, tmp_path):
    engine(datasets.create, "ds", "me")
    same = {name: b"same bytes" for name in ("a.jpg", "b.jpg", "deep/c.jpg")}
    assert engine(stage_files, "ds", same, "me").added == 3
    engine(versions.commit, "ds", "", "me")
    _, rows = engine(versions.manifest, "ds", "latest")
    assert len({r.split for r in rows}) == 1 and len({r.sha256 for r in rows}) == 1
    assert len(rows) == 3 and engine.blob_count() == 1


def test_diff_log_tag_and_status(engine, tmp_path):
    src = tmp_path / "src"
    engine.seed(src, 10)
    v1 = engine(versions.show, "ds", "1")
    with pytest.raises(NothingToCommit, match="no changes since version 1"):
        engine(versions.commit, "ds", "again", "me")
    names = sorted(tree_digests(src))
    engine(stage_files, "ds", {names[0]: b"changed", "new.png": b"new"}, "me")
    engine(datasets.remove_files, "ds", [names[1]], "me")
    st = engine(datasets.status, "ds")
    assert st.changes.summary() == {"added": 1, "removed": 1, "modified": 1, "unchanged": 8}
    v2 = engine(versions.commit, "ds", "two", "me")
    d = engine(versions.diff, "ds", "1", "2")
    assert [c.filename for c in d.added] == ["new.png"]
    assert [c.filename for c in d.removed] == [names[1]]
    mod = d.modified[0]
    assert mod.filename == names[0] and mod.kinds == ("content",)
    assert mod.old.sha256 != mod.new.sha256
    assert [v.number for v in engine(versions.log, "ds")] == [2, 1]
    engine(datasets.tag, "ds", "production", "1", "me")
    assert engine(versions.show, "ds", "production").number == 1
    engine(datasets.tag, "ds", "production", "2", "me")  # a tag moves
    assert engine(versions.show, "ds", "production").manifest_hash == v2.manifest_hash
    assert v1.manifest_hash != v2.manifest_hash
    with pytest.raises(InvalidInput, match="tag name"):
        engine(datasets.tag, "ds", "3", "1", "me")


def test_rm_and_gc_reclaim_only_unreferenced_blobs(engine, tmp_path):
    src = tmp_path / "src"
    engine.seed(src, 20)
    engine(datasets.remove_files, "ds", ["d0/"], "me")
    engine(versions.commit, "ds", "v2", "me")
    # v1 still references the removed files: nothing to reclaim
    assert engine(gc.collect, "me", 0).reclaimed_blobs == 0
    assert engine.blob_count() == 20
    engine(datasets.remove_version, "ds", "1", "me")
    report = engine(gc.collect, "me", 3600)  # inside the grace period: kept
    assert report.reclaimed_blobs == 0 and engine.blob_count() == 20
    report = engine(gc.collect, "me", 0)
    removed = sum(1 for n in tree_digests(src) if n.startswith("d0/"))
    assert report.reclaimed_blobs == removed and engine.blob_count() == 20 - removed
    assert engine(gc.verify, deep=True).ok
    _, rows = engine(versions.manifest, "ds", "2")  # what is referenced still reads back
    assert len(engine.with_ctx(lambda ctx: _read(ctx, engine.ws, rows))) == 20 - removed


def test_lineage_hold_refuses_deletion(engine, tmp_path):
    src = tmp_path / "src"
    engine.seed(src, 3)
    engine(datasets.hold, "ds", "1", "model", "yolo11n-run-7")
    with pytest.raises(VersionHeld, match="held by model yolo11n-run-7"):
        engine(datasets.remove_version, "ds", "1", "me")
    with pytest.raises(VersionHeld):
        engine(datasets.remove_dataset, "ds", "me")
    engine(datasets.hold, "ds", "1", "model", "yolo11n-run-7", release=True)
    engine(datasets.remove_dataset, "ds", "me")
    with pytest.raises(NotFound):
        engine(datasets.status, "ds")


def test_erasure_deletes_the_bytes_and_leaves_a_tombstone(engine, tmp_path):
    src = tmp_path / "src"
    digests = engine.seed(src, 5)
    victim = sorted(digests)[0]
    report = engine(erasure.erase, "dpo", "GDPR request 42", dataset="ds", filename=victim)
    assert report.bytes_deleted and report.sha256 == digests[victim]
    assert engine.blob_count() == 4
    _, rows = engine(versions.manifest, "ds", "1")
    (tombstone,) = engine(erasure.erased_rows, rows)  # what a pull reports instead
    assert (tombstone["filename"], tombstone["reason"]) == (victim, "GDPR request 42")
    audit = engine.with_ctx(lambda ctx: _audit(ctx, engine.ws))
    assert any(a["action"] == "erase" and a["actor"] == "dpo" for a in audit)
    with pytest.raises(NotFound, match="already erased"):
        engine(erasure.erase, "dpo", "again", sha256=digests[victim])


async def _audit(ctx, ws):
    async with ctx.catalog.reading(ws) as uow:
        return await uow.audit.entries()


async def _read(ctx, ws, rows):
    return dict(ctx.blobs.read_many(ws, [r.sha256 for r in rows]))
