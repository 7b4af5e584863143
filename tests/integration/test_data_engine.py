"""The data engine end to end through its services, on a real SQLite file and a
real blob store (local disk here; the SeaweedFS path runs in tests/e2e)."""

from __future__ import annotations

import os
import shutil

import pytest

from appliance.errors import InvalidInput, NotFound, NothingToCommit, VersionHeld
from appliance.services import datasets, erasure, gc, importing, pull, versions
from tests.conftest import make_tree, pulled_digests, tree_digests

pytestmark = pytest.mark.integration


def test_import_commit_pull_round_trips_byte_for_byte(engine, tmp_path):
    src = tmp_path / "photos"
    expected = make_tree(src, 60)
    engine(datasets.create, "photos", "me")
    report = engine(importing.import_tree, "photos", src, "me")
    assert (report.files, report.new_blobs, report.staged.added) == (60, 60, 60)
    v1 = engine(versions.commit, "photos", "first", "me")
    assert (v1.number, v1.file_count, v1.parent_id) == (1, 60, None)
    dest = tmp_path / "out"
    pulled = engine(pull.pull, "photos", "1", dest)
    assert pulled.files == 60 and pulled.manifest_hash == v1.manifest_hash
    assert pulled_digests(dest) == expected == tree_digests(src)


def test_adding_300_to_1200_stores_exactly_300_new_blobs(engine, tmp_path):
    src = tmp_path / "src"
    engine.seed(src, 1200, size=256)
    assert engine.blob_count() == 1200
    make_tree(src, 300, size=256, seed=1, start=1200)
    report = engine(importing.import_tree, "ds", src, "me")
    assert (report.new_blobs, report.staged.added, report.staged.unchanged) == (300, 300, 1200)
    v2 = engine(versions.commit, "ds", "v2", "me")
    assert engine.blob_count() == 1500
    assert (v2.number, v2.file_count, v2.parent_number) == (2, 1500, 1)


def test_duplicate_bytes_are_one_blob_and_one_split(engine, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a.jpg", "b.jpg", "deep/c.jpg"):
        (src / name).parent.mkdir(exist_ok=True)
        (src / name).write_bytes(b"same bytes")
    engine(datasets.create, "ds", "me")
    assert engine(importing.import_tree, "ds", src, "me").new_blobs == 1
    engine(versions.commit, "ds", "", "me")
    _, rows = engine(versions.manifest, "ds", "latest")
    assert len({r.split for r in rows}) == 1 and len(rows) == 3


def test_diff_log_tag_and_status(engine, tmp_path):
    src = tmp_path / "src"
    engine.seed(src, 10)
    v1 = engine(versions.show, "ds", "1")
    with pytest.raises(NothingToCommit, match="no changes since version 1"):
        engine(versions.commit, "ds", "again", "me")
    names = sorted(tree_digests(src))
    (src / names[0]).write_bytes(b"changed")
    (src / names[1]).unlink()
    (src / "new.png").write_bytes(b"new")
    engine(importing.import_tree, "ds", src, "me", mirror=True)
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
    engine(pull.pull, "ds", "2", tmp_path / "v2")  # what is referenced still pulls


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


def test_erasure_tombstones_and_pull_reports_it(engine, tmp_path):
    src = tmp_path / "src"
    digests = engine.seed(src, 5)
    victim = sorted(digests)[0]
    report = engine(erasure.erase, "dpo", "GDPR request 42", dataset="ds", filename=victim)
    assert report.bytes_deleted and report.sha256 == digests[victim]
    assert engine.blob_count() == 4
    dest = tmp_path / "out"
    pulled = engine(pull.pull, "ds", "1", dest)
    assert pulled.files == 4
    assert pulled.erased[0]["filename"] == victim
    assert pulled.erased[0]["reason"] == "GDPR request 42"
    assert not (dest / victim).exists()
    audit = engine.with_ctx(lambda ctx: _audit(ctx, engine.ws))
    assert any(a["action"] == "erase" and a["actor"] == "dpo" for a in audit)
    with pytest.raises(NotFound, match="already erased"):
        engine(erasure.erase, "dpo", "again", sha256=digests[victim])


async def _audit(ctx, ws):
    async with ctx.catalog.reading(ws) as uow:
        return await uow.audit.entries()


def test_pull_refuses_non_empty_destination(engine, tmp_path):
    src = tmp_path / "src"
    engine.seed(src, 2)
    from appliance.errors import Conflict

    with pytest.raises(Conflict, match="not empty"):
        engine(pull.pull, "ds", "1", src)


def test_pull_by_split_layout_and_manifest(engine, tmp_path):
    src = tmp_path / "src"
    engine.seed(src, 40)
    dest = tmp_path / "out"
    engine(pull.pull, "ds", "1", dest, layout="split", manifest_out=tmp_path / "m.json")
    import json

    manifest = json.loads((tmp_path / "m.json").read_text())
    for row in manifest["files"]:
        assert (dest / row["split"] / row["filename"]).exists()
    shutil.rmtree(dest)


def test_pull_writes_every_name_of_a_large_duplicated_blob(engine, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    big = os.urandom(5 << 20)  # above the in-memory read size: streamed
    for name in ("a/clip.mp4", "b/same.mp4"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(big)
    engine(datasets.create, "ds", "me")
    assert engine(importing.import_tree, "ds", src, "me").new_blobs == 1
    engine(versions.commit, "ds", "", "me")
    dest = tmp_path / "out"
    engine(pull.pull, "ds", "1", dest)
    assert pulled_digests(dest) == tree_digests(src)
