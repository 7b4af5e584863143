"""Evaluate, compare, export with the parity gate, promote: end to end through
`ahoy serve` (CLI and SDK) on a model trained here."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from appliance.export import rknn, tensorrt
from appliance.sdk import ApiError
from tests.e2e.conftest import Appliance, client, commit_shapes

pytestmark = pytest.mark.e2e

TINY = {"epochs": 3, "imgsz": 64, "batch": 8, "workers": 0}


@pytest.fixture(scope="module")
def trained(appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("shapes")
    commit_shapes(appliance, root, train=30, val=12)
    c = client(appliance)
    for seed in (1, 2):
        job = c.train("shapes", name="shapes-eval", seed=seed, **TINY).wait(timeout=600)
        assert job["state"] == "succeeded", job
    return "shapes-eval"


def test_evaluate_reports_per_class_ap_curves_confusion_and_errors(
    appliance: Appliance, trained: str, tmp_path: Path
) -> None:
    r = appliance.ahoy_json("model", "evaluate", f"{trained}@1")
    assert r["split"] == "test" and r["dataset"] == "shapes" and r["version"] == 1
    assert r["images"] > 0 and 0.0 <= r["map50_95"] <= r["map50"] <= 1.0
    c = client(appliance)
    listed = c.evaluations(trained, "1")
    assert [e["id"] for e in listed] == [r["evaluation"]]
    report = c.evaluation(r["evaluation"])
    rep = report["report"]
    assert [k["name"] for k in rep["per_class"]] == ["red", "blue"]
    assert len(rep["per_class"][0]["pr_curve"]["recall"]) == 101
    counts = rep["confusion"]["counts"]
    assert len(counts) == 3 and all(len(row) == 3 for row in counts), "2 classes + background"
    assert rep["confusion"]["conf"] == 0.25 and rep["confusion"]["iou"] == 0.45
    assert sum(map(sum, counts)) > 0
    for name in report["pictures"]:
        svg = c.evaluation_picture(r["evaluation"], name)
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
    assert "0.25" in c.evaluation_picture(r["evaluation"], "confusion.svg").decode()
    text = appliance.ahoy("model", "report", r["evaluation"], "--pictures", str(tmp_path)).stdout
    assert "red" in text and "blue" in text and (tmp_path / "pr_curves.svg").exists()
    # COCO's twelve figures, in the summary, the report and the CLI
    stats = listed[0]["summary"]["coco"]
    assert set(stats) == {
        "ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large",
        "ar1", "ar10", "ar100", "ar_small", "ar_medium", "ar_large",
    }  # fmt: skip
    assert stats["ap"] == r["map50_95"] and rep["coco"] == stats
    assert 0.0 <= stats["ar1"] <= stats["ar10"] <= stats["ar100"] <= 1.0
    assert "AP small" in text and "AR, 10 detections" in text


def test_compare_names_the_winner_per_class_on_shared_data(
    appliance: Appliance, trained: str
) -> None:
    c = client(appliance)
    with pytest.raises(ApiError) as unmeasured:
        c.compare_models([f"{trained}@1", f"{trained}@2"])
    assert unmeasured.value.status == 422 and "same data" in str(unmeasured.value.problem)
    appliance.ahoy_json("model", "evaluate", f"{trained}@1")
    appliance.ahoy_json("model", "evaluate", f"{trained}@2")
    r = c.compare_models([f"{trained}@1", f"{trained}@2"])
    images = r["data"]["images"]
    assert images > 0
    assert r["data"] == {
        "dataset": "shapes", "version": 1, "split": "test", "by": "coco", "images": images
    }  # fmt: skip
    assert [m["version"] for m in r["models"]] == [1, 2]
    assert all(m["trained_on"] == {"dataset": "shapes", "version": 1} for m in r["models"])
    for row in r["classes"]:
        assert len(row["ap50_95"]) == 2 and row["winners"]
        best = max(s for s in row["ap50_95"] if s is not None)
        assert all(row["ap50_95"][i] == best for i in row["winners"])
    overall = [m["map50_95"] for m in r["models"]]
    assert r["winners"] == [i for i, s in enumerate(overall) if s == max(overall)]
    assert r["winner"] == r["winners"][0]
    text = appliance.ahoy("model", "compare", f"{trained}@1", f"{trained}@2").stdout
    tied = "tied best overall" if len(r["winners"]) > 1 else "best overall"
    refs = ", ".join(f"{trained}@{r['models'][i]['version']}" for i in r["winners"])
    assert f"{tied}: {refs}" in text
    assert f"on test · coco · {images} images · shapes@1" in text


def test_export_to_onnx_records_parity_and_promotion_follows_it(
    appliance: Appliance, trained: str, tmp_path: Path
) -> None:
    c = client(appliance)
    r = appliance.ahoy_json("model", "export", f"{trained}@1")
    assert r["format"] == "onnx" and r["source_version"] == 1
    parity = r["parity"]
    # export − source: a loss is negative; a test split this small decides nothing
    assert abs(parity["delta_points"]) <= 1.0 and "drop_points" not in parity, parity
    assert parity["images"] < 50 and parity["objects"] > 0
    assert parity["verdict"] == "not measurable" and parity["passed"] is None
    mv = c.model_version(trained, str(r["model_version"]))
    assert mv["format"] == "onnx" and mv["parent"] == 1 and mv["source"] == "export"
    assert mv["config"]["opset"] >= 11 and mv["code"]["tools"]["onnx"]
    assert mv["metrics"]["parity"]["per_class"], "per-class deltas are recorded"
    assert mv["metrics"]["map50_95"] == parity["export_map50_95"]
    assert mv["config"]["imgsz"] == 64, "exported and measured at the training size"
    # two measurements, never under one label: the weights' own validation by
    # Ultralytics on val, the export's COCO evaluation on test
    val = sum(1 for row in c.manifest(None, "shapes", "1") if row["split"] == "val")
    source = c.model_version(trained, "1")
    assert source["metrics"]["measurement"] == {
        "by": "ultralytics", "split": "val", "images": val, "dataset": "shapes", "version": 1
    }  # fmt: skip
    run = c.model_lineage(trained, "1")["run"]  # the training job says the same
    assert run["result"]["measurement"] == source["metrics"]["measurement"]
    assert "measurement" not in run["result"]["metrics"], "the run's figures stay as measured"
    assert mv["metrics"]["measurement"] == {
        "by": "coco",
        "split": "test",
        "images": parity["images"],
        "objects": parity["objects"],
        "dataset": "shapes",
        "version": 1,
    }
    shown = appliance.ahoy("model", "show", trained).stdout
    assert f"(val · ultralytics · {val} images · shapes@1)" in shown
    assert f"(test · coco · {parity['images']} images · shapes@1)" in shown
    counts = f"{parity['images']} images, {parity['objects']} objects"
    assert f"parity not measurable: {parity['delta_points']:+.2f} pts (export − source" in shown
    assert counts in shown
    lineage = appliance.ahoy("model", "lineage", trained, str(mv["number"])).stdout
    assert f"(test · coco · {parity['images']} images · shapes@1)" in lineage
    # the artifact carries its own metadata: its own version, its source's, its data
    path = tmp_path / "model.onnx"
    path.write_bytes(c.get_blob(None, mv["weights_sha256"]))
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    manifest = c.get_version(None, "shapes", "1")["manifest_hash"]
    assert meta["ahoy_model_version"] == str(mv["number"]) and mv["number"] > 2
    assert meta["ahoy_source_version"] == "1"
    assert meta["ahoy_dataset_manifest_hash"] == manifest
    assert "red" in meta["names"] and meta["imgsz"]
    # dynamic batch: 1 and 8 images run through the same file
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    for batch in (1, 8):
        out = session.run(None, {name: np.zeros((batch, 3, 64, 64), np.float32)})[0]
        assert out.shape[:2] == (batch, 6), "4 box values + 2 classes per anchor"
    # NMS inside the model: the same detections (its threshold set low to compare)
    nms = appliance.ahoy(
        "model", "export", f"{trained}@1", "--nms", "--nms-conf", "0.001", "--static"
    ).stdout
    assert "parity not measurable: " in nms and "images, " in nms and "objects" in nms
    nms_mv = c.model_version(trained, "latest")
    assert nms_mv["config"]["output_shape"][1:] == [300, 6] and nms_mv["config"]["nms"]
    assert nms_mv["config"]["input_shape"] == [1, 3, 64, 64], "static"
    assert abs(nms_mv["metrics"]["parity"]["delta_points"]) <= 1.0, nms_mv["metrics"]["parity"]
    # evaluating the export alone gives the parity's export figure
    again = c.wait_job(None, c.evaluate(f"{trained}@{mv['number']}")["id"], timeout=300)
    assert again["result"]["map50_95"] == pytest.approx(parity["export_map50_95"])
    # promotion goes through the gate: not on too little data, unless an admin
    # accepts it, which the audit trail records
    with pytest.raises(ApiError) as unmeasurable:
        c.promote_model(trained, str(mv["number"]), "production")
    assert unmeasurable.value.status == 409 and unmeasurable.value.code == "parity-not-measurable"
    assert counts in unmeasurable.value.detail
    promoted = appliance.ahoy_json(
        "model", "promote", trained, str(mv["number"]), "--accept-unmeasured"
    )
    assert "production" in promoted["tags"]
    audit = appliance.ahoy_json("audit", "log")
    entries = audit["items"] if isinstance(audit, dict) else audit
    accepted = next(e for e in entries if e["action"] == "model.promote")
    assert accepted["target"] == f"model:{trained}:{mv['number']}"
    assert accepted["detail"]["parity"] == "not measurable, accepted"
    # an export is not a starting point for training
    with pytest.raises(ApiError) as refused:
        c.train("shapes", name="x", weights=f"{trained}@{mv['number']}", **TINY)
    assert refused.value.status == 422 and "export" in str(refused.value.problem)


@pytest.mark.skipif(
    not rknn.status()["available"], reason=f"{rknn.status().get('reason')} (run `make rknn`)"
)
def test_export_to_rknn_is_measured_on_the_simulator(appliance: Appliance, trained: str) -> None:
    c = client(appliance)
    r = appliance.ahoy_json("model", "export", f"{trained}@1", "--format", "rknn")
    assert r["format"] == "rknn" and r["source_version"] == 1
    mv = c.model_version(trained, str(r["model_version"]))
    assert mv["format"] == "rknn" and mv["parent"] == 1
    assert mv["config"]["quantize"] == "fp16" and mv["config"]["batch"] == 1
    assert mv["config"]["dynamic"] is False and mv["code"]["tools"]["rknn-toolkit2"] == "2.3.2"
    # the head cut per stride (box logits, class scores), as the .rknn's outputs are
    assert mv["config"]["output_shape"] == [
        [1, channels, side, side] for side in (8, 4, 2) for channels in (64, 2)
    ]
    parity = mv["metrics"]["parity"]
    assert abs(parity["delta_points"]) <= 1.0, parity
    simulated = c.evaluation(parity["evaluations"][1])
    assert simulated["format"] == "rknn" and simulated["report"]["timing"]["runtime"] == "simulator"
    # INT8, calibrated on the train split: made and measured the same way
    job = c.wait_job(
        None, c.export_model(f"{trained}@1", "rknn", quantize="int8")["id"], timeout=600
    )
    assert job["state"] == "succeeded", job
    assert job["result"]["parity"]["export_map50_95"] is not None


def test_a_tensorrt_export_says_why_it_cannot_run_here(appliance: Appliance, trained: str) -> None:
    if tensorrt.status()["available"]:
        pytest.skip("this host has TensorRT and a GPU: the export would run")
    with pytest.raises(ApiError) as refused:
        client(appliance).export_model(f"{trained}@1", "tensorrt")
    assert refused.value.status == 422
    assert refused.value.problem["type"].endswith("job-rejected")
    assert "TensorRT" in refused.value.problem["detail"]
