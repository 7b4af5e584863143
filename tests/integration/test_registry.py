"""The model registry on a real catalog: versions tied to the data and run that made
them, the lineage guard, promotion, and weights kept from GC."""

from __future__ import annotations

import hashlib
import os

import pytest

from appliance.domain.measurement import COCO, measurement
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
            await uow.jobs.add("run1", "train", {"model": "yolo11n-detect"}, "me", {"cpu_cores": 1})

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


def _export_of(engine, source: dict, parity: dict | None, number: int | None = None) -> dict:
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
        number=number,
    )
    if parity is not None:
        measured = measurement(COCO, split="test", images=8, dataset="ds", version=1)
        mv = engine(registry.set_parity, source["model"], mv["number"], parity, measured)
    return mv


def _parity(delta: float, images: int = 60, objects: int = 200) -> dict:
    """A parity record as the export job makes it (the verdict is judged again)."""
    return {
        "delta_points": delta,
        "images": images,
        "objects": objects,
        "where": "ds@1 test",
        "export_map50_95": 0.5,
        "source_map50_95": 0.5 - delta / 100,
    }


def _source(engine) -> dict:
    version_id = _version(engine)
    weights = os.urandom(5000)
    return engine(
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


def _audit(engine, action: str) -> list[dict]:
    async def entries(ctx):
        async with ctx.catalog.reading(engine.ws) as uow:
            return await uow.audit.entries()

    return [e for e in engine.with_ctx(entries) if e["action"] == action]


def test_an_export_names_its_source_and_promotion_follows_its_parity(engine):
    source = _source(engine)
    good = _export_of(engine, source, _parity(-0.4))
    assert good["parent"] == source["number"] and good["source"] == "export"
    assert good["dataset_version_id"] == source["dataset_version_id"]
    assert good["metrics"]["measurement"] == {
        "by": "coco",
        "split": "test",
        "images": 8,
        "dataset": "ds",
        "version": 1,
    }
    assert (
        "production"
        in engine(registry.promote, "shapes", str(good["number"]), "production", "me")["tags"]
    )
    lost = _export_of(engine, source, _parity(-3.2))
    with pytest.raises(registry.ParityFailed) as refused:
        engine(registry.promote, "shapes", str(lost["number"]), "production", "me")
    message = refused.value.message
    assert "parity failed: -3.20 pts (export − source" in message
    assert "on ds@1 test, 60 images, 200 objects; tolerance 1 pts" in message
    # an admin's acceptance is for unmeasurable parity, not for a measured loss
    with pytest.raises(registry.ParityFailed):
        engine(registry.promote, "shapes", str(lost["number"]), "production", "me", True)
    unmeasured = _export_of(engine, source, None)
    with pytest.raises(registry.ParityFailed, match="no parity measurement"):
        engine(registry.promote, "shapes", str(unmeasured["number"]), "candidate", "me")
    # the tag stayed where it was, and the refusals are on the audit trail
    assert engine(registry.version, "shapes", "production")["number"] == good["number"]
    assert len(_audit(engine, "model.promote.refused")) == 3
    # the source itself (trained weights) is promoted without a parity check
    assert engine(registry.promote, "shapes", str(source["number"]), "candidate", "me")["tags"]


def test_parity_on_too_little_data_promotes_only_when_accepted_and_audited(engine):
    source = _source(engine)
    small = _export_of(engine, source, _parity(0.0, images=8, objects=20))
    with pytest.raises(registry.ParityNotMeasurable) as refused:
        engine(registry.promote, "shapes", str(small["number"]), "production", "me")
    assert "parity not measurable" in refused.value.message
    assert "8 images, 20 objects" in refused.value.message
    assert "at least 50 images and 100 objects" in refused.value.message
    assert "--accept-unmeasured" in refused.value.hint
    assert not engine(registry.version, "shapes", str(small["number"]))["tags"]

    promoted = engine(registry.promote, "shapes", str(small["number"]), "production", "me", True)
    assert promoted["tags"] == ["production"]
    (entry,) = _audit(engine, "model.promote")
    assert entry["target"] == f"model:shapes:{small['number']}"
    assert entry["detail"]["parity"] == "not measurable, accepted"
    assert entry["detail"]["on"] == "8 images, 20 objects"


def test_an_export_registers_under_the_number_it_was_stamped_with(engine):
    source = _source(engine)
    number = engine(registry.next_number, "shapes")
    assert number == source["number"] + 1
    # another version takes that number first: the stamped one is refused
    _export_of(engine, source, None)
    with pytest.raises(registry.VersionTaken) as taken:
        _export_of(engine, source, None, number=number)
    assert taken.value.number == number
    again = engine(registry.next_number, "shapes")
    assert _export_of(engine, source, None, number=again)["number"] == again
