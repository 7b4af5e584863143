"""INT8 RKNN detects what its source detects: parity on the shapes set.

A yolo11n is trained here on generated shapes (64 images at 128 px, 40 epochs: about
a minute of CPU) and exported to a static ONNX. The RKNN export cuts its head per
stride (box logits and class scores apart) and converts it, FP16 and INT8 (INT8
calibrated on the train images, as the export job does); 50 val images run in the
toolkit's x86 simulator. The simulator's outputs are decoded by the export job's
own code (``export_rknn.simulated_predictions``), the source weights are run by the
predict worker as the parity gate runs them, and both are scored with COCO
mAP50-95. Before the cut, INT8 scored 0.0 here: one int8 scale for box pixels and
class scores rounds every score to zero.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from ahoy_agent.runtime.decode import join_branches
from ahoy_agent.runtime.letterbox import letterbox, read_image, to_tensor

from appliance.domain.evaluation import (
    Detection,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    evaluate,
)
from appliance.export import rknn, rknn_head
from appliance.jobs.export_rknn import simulated_predictions
from appliance.jobs.on_model import SplitImages
from appliance.settings import Settings
from appliance.training.offline import offline_env
from tests.integration.yolo_dataset import CLASSES, make_detect_dataset

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

IMGSZ = 128
#: the parity gate's default tolerance, in mAP50-95 points
TOLERANCE = Settings().parity_tolerance

TRAIN = """
import shutil, sys
from pathlib import Path
from ultralytics import YOLO

data, out = sys.argv[1], Path(sys.argv[2])
model = YOLO("yolo11n.yaml")
model.train(
    data=data, epochs=40, imgsz=128, batch=16, workers=0, device="cpu", seed=0,
    deterministic=True, amp=False, plots=False, val=False, verbose=False,
    project=str(out / "runs"), name="shapes", exist_ok=True,
)
weights = out / "runs" / "shapes" / "weights" / "last.pt"
shutil.copy(weights, out / "model.pt")
for name, nms in (("static", False), ("nms", True)):
    made = YOLO(str(weights)).export(
        format="onnx", imgsz=128, dynamic=False, simplify=True, nms=nms
    )
    shutil.move(made, out / f"{name}.onnx")
"""


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shapes")
    make_detect_dataset(root, train=64, val=50, size=IMGSZ)
    return root


@pytest.fixture(scope="module")
def trained(toolkit: str, shapes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model.pt``, its ``static.onnx`` and ``nms.onnx`` (NMS inside), made offline
    in a child process."""
    out = tmp_path_factory.mktemp("trained")
    env = {**os.environ, **offline_env(out / "config")}
    argv = [sys.executable, "-c", TRAIN, str(shapes / "data.yaml"), str(out)]
    done = subprocess.run(argv, cwd=out, env=env, capture_output=True, text=True, timeout=1000)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def val_images(shapes: Path) -> list[Path]:
    return sorted((shapes / "images" / "val").glob("*.jpg"))


def ground_truth(shapes: Path) -> list[GroundTruthImage]:
    images = []
    for path in val_images(shapes):
        h, w = read_image(str(path)).shape[:2]
        objects = []
        for line in (shapes / "labels" / "val" / f"{path.stem}.txt").read_text().splitlines():
            cls, cx, cy, bw, bh = (float(v) for v in line.split())
            box = ((cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h)
            objects.append(GroundTruthObject(int(cls), box))
        images.append(GroundTruthImage(path.name, tuple(objects)))
    return images


def map50_95(shapes: Path, predictions: dict[str, Any]) -> float:
    """COCO mAP50-95 of a predict worker's output document."""
    found = [
        ImageDetections(
            image_id,
            tuple(
                Detection(d["class"], (x0, y0, x1 - x0, y1 - y0), d["score"])
                for d in items
                for x0, y0, x1, y1 in [d["box"]]
            ),
        )
        for image_id, items in predictions["detections"].items()
    ]
    return evaluate(ground_truth(shapes), found, list(CLASSES)).map50_95 or 0.0


def predict(model: Path, fmt: str, shapes: Path, out: Path) -> dict[str, Any]:
    """The predict worker (as the parity gate runs the source) on the val images."""
    spec = out / f"predict-{model.stem}.json"
    answer = out / f"predictions-{model.stem}.json"
    images = [{"id": p.name, "path": str(p)} for p in val_images(shapes)]
    spec.write_text(
        json.dumps(
            {
                "model": str(model),
                "format": fmt,
                "imgsz": IMGSZ,
                "batch": 8,
                "threads": 2,
                "images": images,
                "out": str(answer),
                "config_dir": str(out / "config"),
            }
        )
    )
    argv = [sys.executable, "-m", "appliance.inference.predict_worker", str(spec)]
    done = subprocess.run(
        argv, cwd=rknn.project_root(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result: dict[str, Any] = json.loads(answer.read_text())
    return result


def simulate(trained: Path, shapes: Path, quantize: str) -> dict[str, Any]:
    """Convert, run the val images in the simulator, decode as the export job does."""
    out = trained / quantize
    calibration = sorted((shapes / "images" / "train").glob("*.jpg"))
    made = rknn.convert(
        trained / "static.onnx",
        out / "model.rknn",
        quantize=quantize,
        calibration=calibration if quantize == "int8" else (),
        simulate=val_images(shapes),
        simulate_out=out / "simulated",
        timeout=600,
    )
    images = SplitImages(out / "images")
    images.items = [{"id": p.name, "path": str(p)} for p in val_images(shapes)]
    return {**made, "predictions": simulated_predictions(images, out / "simulated", IMGSZ)}


@pytest.fixture(scope="module")
def measured(trained: Path, shapes: Path) -> dict[str, float]:
    """mAP50-95 of the source weights, its ONNX export and both RKNN precisions."""
    figures = {
        "pt": map50_95(shapes, predict(trained / "model.pt", "pt", shapes, trained)),
        "onnx": map50_95(shapes, predict(trained / "static.onnx", "onnx", shapes, trained)),
    }
    for quantize in ("fp16", "int8"):
        figures[quantize] = map50_95(shapes, simulate(trained, shapes, quantize)["predictions"])
    print("mAP50-95 on the shapes set:", {k: round(v, 4) for k, v in figures.items()})
    return figures


def test_the_source_model_detects_the_shapes(measured: dict[str, float]) -> None:
    # else every parity below would hold trivially
    assert measured["pt"] > 0.3
    assert measured["onnx"] == pytest.approx(measured["pt"], abs=0.005)


def test_int8_on_the_simulator_is_within_the_parity_tolerance(measured: dict[str, float]) -> None:
    drop_points = 100 * (measured["pt"] - measured["int8"])
    assert drop_points <= TOLERANCE, measured


def test_fp16_on_the_simulator_matches_the_source(measured: dict[str, float]) -> None:
    assert abs(100 * (measured["pt"] - measured["fp16"])) <= TOLERANCE, measured


def test_the_cut_model_answers_as_the_whole_one(trained: Path, shapes: Path) -> None:
    """onnxruntime on the cut model, its branches joined on the CPU, gives the uncut
    model's output to float rounding; the ONNX backend reads the cut model too."""
    cut = trained / "cut.onnx"
    outputs = rknn_head.split_head(trained / "static.onnx", cut)
    assert [(o["name"], o["shape"]) for o in outputs] == [
        ("box_0", [1, 64, 16, 16]),
        ("score_0", [1, 2, 16, 16]),
        ("box_1", [1, 64, 8, 8]),
        ("score_1", [1, 2, 8, 8]),
        ("box_2", [1, 64, 4, 4]),
        ("score_2", [1, 2, 4, 4]),
    ]
    whole = ort.InferenceSession(str(trained / "static.onnx"), providers=["CPUExecutionProvider"])
    branches = ort.InferenceSession(str(cut), providers=["CPUExecutionProvider"])
    boxed, _ = letterbox(read_image(str(val_images(shapes)[0])), IMGSZ)
    batch = to_tensor([boxed])
    expected = whole.run(None, {"images": batch})[0]
    joined = join_branches(branches.run(None, {"images": batch}), (IMGSZ, IMGSZ))
    assert joined.shape == expected.shape == (1, 6, 336)
    assert np.abs(joined[:, :4] - expected[:, :4]).max() < 1e-3  # pixels
    assert np.abs(joined[:, 4:] - expected[:, 4:]).max() < 1e-6
    # the cut model is evaluated like any ONNX: the same detections as the whole one
    found = predict(cut, "onnx", shapes, trained)
    assert map50_95(shapes, found) == pytest.approx(
        map50_95(shapes, predict(trained / "static.onnx", "onnx", shapes, trained)), abs=1e-4
    )


def test_a_model_with_nms_inside_is_refused(trained: Path, tmp_path: Path) -> None:
    with pytest.raises(rknn_head.UnsupportedHead) as refused:
        rknn.convert(trained / "nms.onnx", tmp_path / "m.rknn")
    assert refused.value.message.startswith("RKNN export needs an Ultralytics detect head")
    assert "nms.onnx ends in" in refused.value.message
    assert "nms=False" in str(refused.value.hint)
    assert not (tmp_path / "m.rknn").exists()
