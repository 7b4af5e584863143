"""RKNN export for real: a yolo11n built from its YAML is exported to a static ONNX
at 128 px, converted for RK3588 (FP16 and INT8) in ``.venv-rknn``, and run in the
toolkit's x86 simulator; the simulator's raw outputs (the head cut per stride,
joined back on the CPU) are compared with onnxruntime's on the very input the worker
prepared (INT8 accuracy on a trained model: test_rknn_int8_parity.py). Skips, with
the reason, without ``make rknn``.

A freshly initialised YOLO answers every image alike (its head biases dominate),
so any comparison would pass. The model here has its BatchNorm statistics
recalibrated on noise and its gains damped (x0.8: short of the chaotic regime, where
a random network amplifies FP16 rounding without bound) and its head outputs scaled
(x6), so that its boxes and scores depend on the image.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from ahoy_agent.runtime.decode import join_branches
from PIL import Image

from appliance.errors import InvalidInput
from appliance.export import rknn
from appliance.training.offline import offline_env
from tests.integration.yolo_dataset import make_detect_dataset

pytestmark = pytest.mark.integration

IMGSZ = 128
#: FP16 tolerance on box coordinates, in input pixels. The head is cut per stride
#: and boxes are decoded on the CPU from the simulator's FP16 box logits: measured
#: 0.24-0.26 px on the two images (0.41 px when the whole head ran in FP16, where
#: coordinates reach ~480 px and FP16's spacing there is 0.25 px).
BOX_TOLERANCE_PX = 1.0
#: FP16 tolerance on class scores (sigmoid outputs, 0..1); measured at most 0.0013.
SCORE_TOLERANCE = 0.005

BUILD_MODEL = """
import shutil, sys
from pathlib import Path

import cv2, numpy as np, torch
from ultralytics import YOLO
from ultralytics.data.augment import LetterBox

out, imgsz, images = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
torch.manual_seed(0)
model = YOLO("yolo11n.yaml")
net, head = model.model, model.model.model[-1]
for conv in head.cv3:
    torch.nn.init.zeros_(conv[-1].bias)
for bn in (m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)):
    bn.reset_running_stats()
    bn.momentum = None
net.train()
with torch.no_grad():
    for _ in range(4):
        net(torch.rand(8, 3, imgsz, imgsz))
    for bn in (m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.weight.mul_(0.8)
    for conv in (*head.cv2, *head.cv3):
        conv[-1].weight.mul_(6)
net.eval()
for name, dynamic in (("static", False), ("dynamic", True)):
    path = model.export(format="onnx", imgsz=imgsz, dynamic=dynamic, simplify=True)
    shutil.move(path, out / f"{name}.onnx")
letterbox = LetterBox(new_shape=(imgsz, imgsz))
for i, image in enumerate(images):
    np.save(out / f"expected{i}.npy", letterbox(image=cv2.imread(image))[..., ::-1])
"""


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Calibration PNGs (160 px squares) and two non-square PNGs to simulate, so the
    letterbox pads one side and then the other."""
    root = tmp_path_factory.mktemp("shapes")
    make_detect_dataset(root, train=6, val=2, size=160)
    calibration, simulate = [], []
    for jpg in sorted((root / "images" / "train").glob("*.jpg")):
        calibration.append(jpg.with_suffix(".png"))
        Image.open(jpg).save(calibration[-1])
    crops = ((0, 20, 160, 124), (30, 0, 118, 160))
    for jpg, box in zip(sorted((root / "images" / "val").glob("*.jpg")), crops, strict=True):
        simulate.append(jpg.with_suffix(".png"))
        Image.open(jpg).crop(box).save(simulate[-1])
    return {"calibration": calibration, "simulate": simulate}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, images: dict[str, list[Path]]) -> Path:
    """``static.onnx``, ``dynamic.onnx`` and Ultralytics' own letterbox of each image to
    simulate (``expected<i>.npy``, RGB), made offline in a child process."""
    out = tmp_path_factory.mktemp("onnx")
    env = {**os.environ, **offline_env(out / "config")}
    argv = [sys.executable, "-c", BUILD_MODEL, str(out), str(IMGSZ)]
    done = subprocess.run(
        [*argv, *map(str, images["simulate"])],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def _convert(models: Path, images: dict[str, list[Path]], quantize: str) -> dict[str, Any]:
    events: list[dict[str, Any]] = []
    out = models / quantize
    began = time.monotonic()
    result = rknn.convert(
        models / "static.onnx",
        out / "yolo11n.rknn",
        quantize=quantize,
        calibration=images["calibration"] if quantize == "int8" else (),
        simulate=images["simulate"],
        simulate_out=out / "simulated",
        timeout=240,
        on_event=events.append,
    )
    return {**result, "events": events, "wall_s": time.monotonic() - began}


@pytest.fixture(scope="module")
def fp16(toolkit: str, models: Path, images: dict[str, list[Path]]) -> dict[str, Any]:
    return _convert(models, images, "fp16")


@pytest.fixture(scope="module")
def int8(toolkit: str, models: Path, images: dict[str, list[Path]]) -> dict[str, Any]:
    return _convert(models, images, "int8")


def _onnxruntime(models: Path, batch: np.ndarray) -> np.ndarray:
    """The ONNX model on the worker's input: NHWC uint8 RGB → NCHW float32 / 255."""
    session = ort.InferenceSession(str(models / "static.onnx"), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: batch.transpose(0, 3, 1, 2).astype(np.float32) / 255})[0]


def joined(simulated: dict[str, Any]) -> np.ndarray:
    """The simulator's per-stride outputs joined into the head's [1, 4 + nc, anchors]."""
    return join_branches([np.load(path) for path in simulated["outputs"]], (IMGSZ, IMGSZ))


@pytest.mark.parametrize("quantize", ["fp16", "int8"])
def test_the_export_reports_progress_and_writes_the_model(quantize, request, toolkit):
    result = request.getfixturevalue(quantize)
    kinds = [e["kind"] for e in result["events"]]
    assert kinds[-1] == "result" and kinds.count("result") == 1
    progress = [e for e in result["events"] if e["kind"] == "progress"]
    assert [p["phase"] for p in progress] == [
        *("config", "load", "build", "export"),
        *("simulate", "simulate"),
    ]
    assert progress[-1]["done"] == progress[-1]["total"] == 6
    assert result["toolkit"] == toolkit
    assert result["quantize"] == quantize
    assert result["size"] == Path(result["output"]).stat().st_size > 1_000_000
    # converted with its head cut per stride: box logits and class scores apart
    assert result["layout"] == "yolo-branches"
    assert [o["name"] for o in result["outputs"]] == [
        f"{kind}_{i}" for i in range(3) for kind in ("box", "score")
    ]
    assert [s["shapes"] for s in result["simulated"]] == [
        [o["shape"] for o in result["outputs"]]
    ] * 2
    assert 0 < result["seconds"] < 120
    print(f"{quantize}: convert {result['seconds']:.2f} s, worker wall {result['wall_s']:.2f} s")


def test_the_worker_letterboxes_as_ultralytics_does(fp16, models):
    for i, simulated in enumerate(fp16["simulated"]):
        batch = np.load(simulated["input"])
        assert batch.shape == (1, IMGSZ, IMGSZ, 3) and batch.dtype == np.uint8
        expected = np.load(models / f"expected{i}.npy")
        # the two environments' OpenCV builds may round a resized pixel differently
        assert np.abs(batch[0].astype(int) - expected.astype(int)).max() <= 1


def test_fp16_in_the_simulator_matches_onnxruntime(fp16, models):
    references = []
    for simulated in fp16["simulated"]:
        batch = np.load(simulated["input"])
        reference = _onnxruntime(models, batch)
        references.append(reference)
        output = joined(simulated)
        assert output.shape == reference.shape == (1, 84, 336)
        box_error = np.abs(output[:, :4] - reference[:, :4]).max()
        score_error = np.abs(output[:, 4:] - reference[:, 4:]).max()
        print(f"fp16 vs onnxruntime: boxes {box_error:.3f} px, scores {score_error:.5f}")
        assert box_error <= BOX_TOLERANCE_PX
        assert score_error <= SCORE_TOLERANCE
        # The same image with its channels swapped is told apart: the comparison
        # would catch a BGR/RGB mix-up in the worker.
        swapped = _onnxruntime(models, np.ascontiguousarray(batch[..., ::-1]))
        assert np.abs(output[:, 4:] - swapped[:, 4:]).max() > 2 * SCORE_TOLERANCE
    # and the model answers the two images differently, well beyond the tolerance
    first, second = references
    assert np.abs(first[:, 4:] - second[:, 4:]).max() > 2 * SCORE_TOLERANCE


def test_int8_in_the_simulator_is_not_degenerate(int8, models):
    for simulated in int8["simulated"]:
        reference = _onnxruntime(models, np.load(simulated["input"]))
        output = joined(simulated)
        assert output.shape == reference.shape
        assert np.isfinite(output).all() and np.abs(output).max() > 0
        assert np.corrcoef(output.ravel(), reference.ravel())[0, 1] > 0.99
        print(f"int8 vs onnxruntime: max abs difference {np.abs(output - reference).max():.3f}")


def test_a_dynamic_onnx_is_refused_before_the_toolkit_runs(models, tmp_path):
    with pytest.raises(rknn.StaticOnnxRequired) as caught:
        rknn.convert(models / "dynamic.onnx", tmp_path / "m.rknn", quantize="fp16")
    assert "static" in str(caught.value)
    assert "images" in caught.value.message and "batch" in caught.value.message
    assert isinstance(caught.value, InvalidInput)
    assert not (tmp_path / "m.rknn").exists()


def test_without_the_environment_export_is_unavailable(models, tmp_path, monkeypatch):
    missing = tmp_path / "no-such-python"
    monkeypatch.setenv(rknn.PYTHON_ENV_VAR, str(missing))
    state = rknn.status()
    assert state == {
        "available": False,
        "reason": f"{rknn.PYTHON_ENV_VAR}={missing} is not an executable python",
        "hint": "make rknn",
    }
    with pytest.raises(rknn.RknnUnavailable) as caught:
        rknn.convert(models / "static.onnx", tmp_path / "m.rknn")
    assert "RKNN export is not available" in caught.value.message
    assert "make rknn" in caught.value.hint


def test_a_failing_worker_reports_its_reason(toolkit, models, tmp_path):
    missing = tmp_path / "missing.png"
    with pytest.raises(rknn.RknnExportFailed) as caught:
        rknn.convert(
            models / "static.onnx", tmp_path / "m.rknn", quantize="int8", calibration=[missing]
        )
    assert caught.value.reason == f"rknn export failed: cannot read image {str(missing)!r}"
    assert caught.value.returncode == 1


def test_a_worker_past_its_time_is_stopped(toolkit, models, tmp_path):
    began = time.monotonic()
    with pytest.raises(rknn.RknnExportFailed) as caught:
        rknn.convert(models / "static.onnx", tmp_path / "m.rknn", timeout=0.5)
    assert caught.value.reason == "timed out after 0.5 s"
    assert time.monotonic() - began < 10
