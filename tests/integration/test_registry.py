"""The model registry on a real catalog: versions tied to the data and run that made
them, the lineage guard, promotion, and weights kept from GC."""

from __future__ import annotations

import hashlib
import os

import pytest

from appliance.errors import BlobsNotUploaded, InvalidInput, NotFound, VersionHeld
from appliance.ports.blobstore import BlobPut
from appliance.services import datasets, gc, registry, staging, versions

pytestmark = pytest.mark.integration


def _put(engine, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()

    async def put(ctx):
        ctx.blobs.put_many(engine.ws, [BlobPut(sha, len(data), data=data)])

    engine.with_ctx(put)
    return sha


def _version(engine) -> int:
    image = os.urandom(2000)
    sha = _put(engine, image)
    engine(datasets.create, "ds", "me")
    engine(staging.stage_uploaded, "ds", [staging.Entry("a.jpg", sha, len(image))], "me")
    return engine(versions.commit, "ds", "v1", "me").id


def _run(engine) -> str:
    async def add(ctx):
        async with ctx.catalog.writing(engine.ws) as uow:
            await uow.add_job("run1", "train", {"model": "yolo11n-detect"}, "me", {"cpu_cores": 1})

    engine.with_ctx(add)
    return "run1"


def test_a_run_registers_a_version_that_holds_its_data(engine):
    version_id = _version(engine)
    run = _run(engine)
    weights = os.urandom(5000)
    sha = _put(engine, weights)
    mv = engine(
        registry.register_run,
        name="shapes",
        task="detect",
        run_id=run,
        dataset_version_id=version_id,
        weights=(sha, len(weights)),
        metrics={"mAP50": 0.5},
        code={"catalog": "yolo11n-detect", "ultralytics": "8.4.190"},
        config={"epochs": 3, "seed": 0},
        actor="me",
    )
    assert mv["number"] == 1 and mv["source"] == "run" and mv["tags"] == []
    lin = engine(registry.lineage, "shapes", "latest")
    assert lin["data"]["dataset"] == "ds" and lin["data"]["number"] == 1
    assert lin["data"]["manifest_hash"] == engine(versions.show, "ds", "1").manifest_hash
    assert lin["run"]["id"] == run and lin["code"]["catalog"] == "yolo11n-detect"
    with pytest.raises(VersionHeld) as held:
        engine(datasets.remove_version, "ds", "1", "me")
    assert "model shapes:1" in str(held.value.holders)
    with pytest.raises(VersionHeld):
        engine(datasets.remove_dataset, "ds", "me")
    report = engine(gc.collect, "me", 0)
    assert report.reclaimed_blobs == 0  # weights and data are referenced
    promoted = engine(registry.promote, "shapes", "1", "production", "me")
    assert promoted["tags"] == ["production"]
    assert engine(registry.version, "shapes", "production")["number"] == 1


def test_uploaded_weights_register_and_bad_input_is_named(engine):
    weights = os.urandom(3000)
    sha = _put(engine, weights)
    mv = engine(
        registry.register_upload, name="base", task="detect", weights_sha256=sha, actor="me"
    )
    assert mv["source"] == "upload" and mv["weights_size"] == 3000
    assert mv["dataset_version_id"] is None and mv["run_id"] is None
    second = engine(
        registry.register_upload, name="base", task="detect", weights_sha256=sha, actor="me"
    )
    assert second["number"] == 2
    with pytest.raises(BlobsNotUploaded):
        engine(
            registry.register_upload, name="x", task="detect", weights_sha256="0" * 64, actor="me"
        )
    with pytest.raises(InvalidInput, match="is a detect model"):
        engine(registry.register_upload, name="base", task="pose", weights_sha256=sha, actor="me")
    with pytest.raises(InvalidInput, match="model name"):
        engine(registry.register_upload, name="../x", task="detect", weights_sha256=sha, actor="me")
    with pytest.raises(NotFound):
        engine(registry.version, "base", "production")
    assert [m["name"] for m in engine(registry.list_models)] == ["base"]


def _export_of(engine, source: dict, parity: dict | None) -> dict:
    onnx = os.urandom(3000)
    mv = engine(
        registry.register_export,
        source=source,
        fmt="onnx",
        weights=(_put(engine, onnx), len(onnx)),
        code={"tools": {"onnx": "1.23.2"}},
        config={"dynamic": True},
        run_id="run1",
        actor="me",
    )
    if parity is not None:
        mv = engine(registry.set_parity, source["model"], mv["number"], parity)
    return mv


def test_an_export_names_its_source_and_promotion_follows_its_parity(engine):
    version_id = _version(engine)
    weights = os.urandom(5000)
    source = engine(
        registry.register_run,
        name="shapes",
        task="detect",
        run_id=_run(engine),
        dataset_version_id=version_id,
        weights=(_put(engine, weights), len(weights)),
        metrics={},
        code={},
        config={},
        actor="me",
    )
    good = _export_of(engine, source, {"drop_points": 0.4, "passed": True})
    assert good["parent"] == source["number"] and good["source"] == "export"
    assert good["dataset_version_id"] == version_id
    assert (
        "production"
        in engine(registry.promote, "shapes", str(good["number"]), "production", "me")["tags"]
    )
    lost = _export_of(engine, source, {"drop_points": 3.2, "passed": False, "where": "ds@1 test"})
    with pytest.raises(registry.ParityFailed) as refused:
        engine(registry.promote, "shapes", str(lost["number"]), "production", "me")
    assert (
        "3.20 mAP50-95 points" in refused.value.message
        and "tolerance is 1" in refused.value.message
    )
    unmeasured = _export_of(engine, source, None)
    with pytest.raises(registry.ParityFailed, match="no parity measurement"):
        engine(registry.promote, "shapes", str(unmeasured["number"]), "candidate", "me")
    # the tag stayed where it was, and the refusals are on the audit trail
    assert engine(registry.version, "shapes", "production")["number"] == good["number"]

    async def refusals(ctx):
        async with ctx.catalog.reading(engine.ws) as uow:
            entries = await uow.audit_entries()
        return [e for e in entries if e["action"] == "model.promote.refused"]

    assert len(engine.with_ctx(refusals)) == 2
    # the source itself (trained weights) is promoted without a parity check
    assert engine(registry.promote, "shapes", str(source["number"]), "candidate", "me")["tags"]
