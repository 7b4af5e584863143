"""Training end to end on this CPU-only box, through the API: submit → admitted or
queued with a position → epoch metrics stream live → a model version registered
with the exact data, run and code that made it; the lineage guard holds the data."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from appliance.sdk import ApiError
from tests.e2e.conftest import Appliance
from tests.integration.yolo_dataset import make_detect_dataset

pytestmark = pytest.mark.e2e

TINY = {"epochs": 2, "imgsz": 64, "batch": 8, "workers": 0, "seed": 3}


@pytest.fixture(scope="module")
def shapes(appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("shapes")
    make_detect_dataset(root, train=40, val=10)
    appliance.ahoy("dataset", "create", "shapes")
    appliance.ahoy("dataset", "import-yolo", str(root), "-d", "shapes")
    appliance.ahoy("dataset", "commit", "shapes", "-m", "generated shapes")
    return "shapes"


def test_train_streams_metrics_and_registers_the_model_with_lineage(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    c = appliance.client
    assert c is not None
    run = c.train(shapes, "yolo11n-detect", name="shapes-detector", **TINY)
    epochs = list(run.metrics())
    job = run.wait(timeout=300)
    assert job["state"] == "succeeded", job
    assert [m["epoch"] for m in epochs] == [1, 2]  # the extra final eval is not an epoch
    assert all(m["train_losses"]["box"] is not None for m in epochs)
    assert job["params"]["version"] == "1" and job["request"]["cpu_cores"] >= 1
    assert {"best.pt", "last.pt", "results.csv", "train.log"} <= set(job["result"]["artifacts"])
    log = [e["data"]["line"] for e in c.job_log(run.id, kind="log")]
    assert any("laying out" in line for line in log)
    assert len(log) > 5, "Ultralytics' console output is followed while it trains"
    # a stream resumed after the first epoch replays only what came later
    first_epoch = next(e["seq"] for e in c.job_log(run.id, kind="epoch"))
    resumed = [e for e in c.job_log(run.id, after=first_epoch) if e["kind"] == "epoch"]
    assert [e["data"]["epoch"] for e in resumed] == [2]
    lineage = run.model()
    assert lineage["data"]["dataset"] == shapes and lineage["data"]["number"] == 1
    manifest = c.get_version(None, shapes, "1")["manifest_hash"]
    assert lineage["data"]["manifest_hash"] == manifest
    assert lineage["run"]["id"] == run.id
    assert lineage["code"]["catalog"] == "yolo11n-detect" and lineage["code"]["ultralytics"]
    assert lineage["config"]["seed"] == 3
    weights = {a["name"]: a for a in c.job_artifacts(run.id)}["best.pt"]
    assert lineage["model"]["weights_sha256"] == weights["sha256"]
    # the data that trained it is held: it cannot be deleted while the model exists
    with pytest.raises(ApiError) as held:
        c.delete_version(None, shapes, "1")
    assert held.value.status == 409 and "shapes-detector:1" in str(held.value.problem)
    # "what exact data trained this model" is one call, and pull rebuilds it
    text = appliance.ahoy("model", "lineage", "shapes-detector").stdout
    assert f"{shapes}@1" in text and manifest in text
    promoted = appliance.ahoy_json("model", "promote", "shapes-detector", "1")
    assert promoted["tags"] == ["production"]


def test_a_second_run_waits_its_turn_and_a_gpu_run_is_refused(
    appliance: Appliance, shapes: str
) -> None:
    c = appliance.client
    assert c is not None
    cores = c.capacity()["reading"]["cores"]
    hog = c.submit_job("box-benchmark", {"seconds": 8, "cores": cores})
    deadline = time.monotonic() + 30
    while c.get_job(None, hog["id"])["state"] != "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    run = c.train(shapes, **TINY)
    time.sleep(1.5)
    queued = run.job()
    assert queued["state"] == "queued" and queued["admission"]["position"] == 1
    assert run.wait(timeout=300)["state"] == "succeeded"
    with pytest.raises(ApiError) as refused:
        c.train(shapes, **{**TINY, "device": "cuda"})
    assert refused.value.code == "job-rejected"
    if not c.capacity()["reading"]["gpus"]:
        assert "no GPU" in refused.value.detail


def test_bad_training_requests_name_every_problem(appliance: Appliance, shapes: str) -> None:
    c = appliance.client
    assert c is not None
    with pytest.raises(ApiError) as bad:
        c.train(shapes, epochs=-1, optimizer="Sideways")
    assert bad.value.status == 422
    assert "epochs" in str(bad.value.problem) and "optimizer" in str(bad.value.problem)
    with pytest.raises(ApiError) as unknown:
        c.train(shapes, "yolo99z-detect")
    assert "yolo99z-detect" in unknown.value.detail
    with pytest.raises(ApiError) as missing:
        c.train("no-such-dataset")
    assert missing.value.status == 404


def test_a_registered_model_pre_labels_an_image(appliance: Appliance, shapes: str) -> None:
    c = appliance.client
    assert c is not None
    if not any(m["name"] == "shapes-detector" for m in c.list_models()):
        pytest.skip("needs the model the first test of this module trains")
    path = next(i["path"] for i in c.items(None, shapes))
    before = c.item(None, shapes, path)["labels"]["objects"]
    r = c.prelabel(None, shapes, path, "shapes-detector@production", min_score=0.0)
    after = c.item(None, shapes, path)["labels"]["objects"]
    proposals = [o for o in after if (o.get("attributes") or {}).get("proposal") is True]
    assert r["proposed"] == len(proposals) > 0  # an undertrained model still proposes
    assert all(0 <= o["attributes"]["score"] <= 1 for o in proposals)
    assert [o for o in after if o not in proposals] == before  # human objects untouched
    with pytest.raises(ApiError) as missing:
        c.prelabel(None, shapes, path, "no-such-model")
    assert missing.value.status == 404 and "ahoy model list" in (missing.value.hint or "")


def test_fine_tuning_starts_from_a_registered_model_version(
    appliance: Appliance, shapes: str
) -> None:
    c = appliance.client
    assert c is not None
    if not any(m["name"] == "shapes-detector" for m in c.list_models()):
        pytest.skip("needs the model the first test of this module trains")
    start = c.model_version("shapes-detector", "production")
    run = c.train(shapes, name="shapes-tuned", weights="shapes-detector@production", **TINY)
    job = run.wait(timeout=300)
    assert job["state"] == "succeeded", job
    assert job["params"]["weights"] == f"shapes-detector@{start['number']}"  # pinned
    lineage = run.model()
    assert lineage["code"]["init_weights"] == {
        "model": f"shapes-detector@{start['number']}",
        "sha256": start["weights_sha256"],
    }
    assert any("fine-tuning from" in e["data"]["line"] for e in c.job_log(run.id, kind="log"))
    with pytest.raises(ApiError) as wrong:
        c.train(shapes, "yolo11n-pose", weights="shapes-detector", **TINY)
    assert "not pose" in wrong.value.detail
