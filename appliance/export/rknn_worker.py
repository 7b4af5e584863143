"""Convert an ONNX model to RKNN and, optionally, run it in the x86 simulator.

Runs inside ``.venv-rknn`` (rknn-toolkit2 cannot share an environment with
ultralytics), so it imports only the standard library, numpy, cv2 and rknn:

    .venv-rknn/bin/python /abs/path/rknn_worker.py SPEC.json

SPEC is a JSON object: ``onnx``, ``output`` (the .rknn path), ``target``
("rk3588"), ``quantize`` ("fp16" | "int8"), ``calibration`` (image paths, int8
only), ``mean`` and ``std`` (per channel, on 0..255 RGB), ``input_size``
([h, w]), ``simulate`` (image paths) and ``simulate_out`` (a directory).

Every image, for calibration and simulation alike, is prepared as Ultralytics
prepares it for its ONNX export: read as BGR, letterboxed to ``input_size``
(scale to fit without distortion, INTER_LINEAR, centred, padded with 114), turned
to RGB, as one NHWC uint8 batch. The model normalises on the NPU with ``mean`` and
``std``. For simulated image ``i`` the worker saves that batch as
``i.input.npy`` and the raw outputs as ``i.npy`` (``i_k.npy`` for output ``k``
when the model has several): feed ``input.transpose(0, 3, 1, 2) / 255`` (float32)
to onnxruntime to compare.

Events go to the event channel (appliance/child_events.py, loaded by its path, as
this environment has no appliance): ``progress`` {done, total, phase} and one
``result`` {data}. The toolkit's own output is the log, on stdout and stderr; a
failure exits non-zero with the reason as the last line of the log.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np

PAD_VALUE = 114


class WorkerError(Exception):
    """A failure with a message meant for the person who asked for the export."""


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Ultralytics' ``LetterBox(new_shape=size)`` (auto=False, centred, pad 114)."""
    height, width = size
    shape = image.shape[:2]
    r = min(height / shape[0], width / shape[1])
    new_w, new_h = max(round(shape[1] * r), 1), max(round(shape[0] * r), 1)
    if (shape[1], shape[0]) != (new_w, new_h):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    dw, dh = (width - new_w) / 2, (height - new_h) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    return cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )


def read_bgr(path: str) -> np.ndarray:
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise WorkerError(f"cannot read image {path!r}")
    return image


def prepare(path: str, size: tuple[int, int]) -> np.ndarray:
    """One image as the model's input: a (1, h, w, 3) uint8 RGB batch."""
    rgb = cv2.cvtColor(letterbox(read_bgr(path), size), cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(rgb[None])


class Worker:
    def __init__(self, spec: dict[str, Any], events: ModuleType) -> None:
        self.spec = spec
        self.events = events
        size = spec.get("input_size")
        if not (isinstance(size, list) and len(size) == 2):
            raise WorkerError("spec 'input_size' must be [height, width]")
        self.size = (int(size[0]), int(size[1]))
        self.quantize = spec.get("quantize", "fp16")
        if self.quantize not in ("fp16", "int8"):
            raise WorkerError(f"quantize must be 'fp16' or 'int8', not {self.quantize!r}")
        self.calibration: list[str] = list(spec.get("calibration") or [])
        if self.quantize == "int8" and not self.calibration:
            raise WorkerError("int8 needs calibration images (spec 'calibration')")
        self.simulate: list[str] = list(spec.get("simulate") or [])
        self.total = 4 + len(self.simulate)  # config, load, build, export, one per image
        self.done = 0

    def emit(self, kind: str, **data: Any) -> None:
        self.events.emit(kind, **data)

    def step(self, phase: str) -> None:
        self.done += 1
        self.emit("progress", done=self.done, total=self.total, phase=phase)

    def run(self) -> dict[str, Any]:
        from rknn.api import RKNN

        began = time.monotonic()
        output = Path(self.spec["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        rknn = RKNN(verbose=False)
        try:
            with tempfile.TemporaryDirectory(prefix="rknn-calib-") as scratch:
                self._convert(rknn, output, Path(scratch))
            convert_s = time.monotonic() - began
            simulated = self._simulate(rknn) if self.simulate else []
        finally:
            rknn.release()
        return {
            "toolkit": _toolkit_version(),
            "target": self.spec.get("target", "rk3588"),
            "quantize": self.quantize,
            "output": str(output),
            "size": output.stat().st_size,
            "seconds": round(convert_s, 3),
            "simulate_seconds": round(time.monotonic() - began - convert_s, 3),
            "simulated": simulated,
        }

    def _convert(self, rknn: Any, output: Path, scratch: Path) -> None:
        _check(
            rknn.config(
                mean_values=[list(self.spec.get("mean", [0, 0, 0]))],
                std_values=[list(self.spec.get("std", [255, 255, 255]))],
                target_platform=self.spec.get("target", "rk3588"),
            ),
            "config",
        )
        self.step("config")
        _check(rknn.load_onnx(model=str(self.spec["onnx"])), "load_onnx")
        self.step("load")
        dataset = self._dataset(scratch) if self.quantize == "int8" else None
        _check(rknn.build(do_quantization=dataset is not None, dataset=dataset), "build")
        self.step("build")
        _check(rknn.export_rknn(str(output)), "export_rknn")
        self.step("export")

    def _dataset(self, scratch: Path) -> str:
        """The calibration list: each image letterboxed as at inference and saved
        as a lossless PNG at the input size, which the toolkit reads as RGB and
        normalises with ``mean``/``std`` (left alone it would resize, not letterbox)."""
        lines = []
        for i, path in enumerate(self.calibration):
            target = scratch / f"{i}.png"
            if not cv2.imwrite(str(target), letterbox(read_bgr(path), self.size)):
                raise WorkerError(f"cannot write calibration image {target}")
            lines.append(str(target))
        listing = scratch / "dataset.txt"
        listing.write_text("\n".join(lines) + "\n")
        return str(listing)

    def _simulate(self, rknn: Any) -> list[dict[str, Any]]:
        _check(rknn.init_runtime(), "init_runtime (simulator)")
        out = Path(self.spec.get("simulate_out") or Path(self.spec["output"]).parent)
        out.mkdir(parents=True, exist_ok=True)
        results = []
        for i, path in enumerate(self.simulate):
            batch = prepare(path, self.size)
            outputs = rknn.inference(inputs=[batch], data_format=["nhwc"])
            if outputs is None:
                raise WorkerError(f"the simulator returned nothing for {path!r}")
            np.save(out / f"{i}.input.npy", batch)
            names = (
                [f"{i}.npy"] if len(outputs) == 1 else [f"{i}_{k}.npy" for k in range(len(outputs))]
            )
            for name, array in zip(names, outputs, strict=True):
                np.save(out / name, np.asarray(array))
            results.append(
                {
                    "image": path,
                    "input": str(out / f"{i}.input.npy"),
                    "outputs": [str(out / name) for name in names],
                    "shapes": [list(np.shape(a)) for a in outputs],
                }
            )
            self.step("simulate")
        return results


def _check(code: int, what: str) -> None:
    if code != 0:
        raise WorkerError(f"rknn {what} failed (code {code}); the toolkit's log is above")


def _toolkit_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("rknn-toolkit2")
    except metadata.PackageNotFoundError:
        return "unknown"


def child_events() -> ModuleType:
    """The appliance's child-process protocol, loaded from its file: only the
    standard library, so it loads here where the appliance's packages must not."""
    path = Path(__file__).resolve().parent.parent / "child_events.py"
    spec = importlib.util.spec_from_file_location("ahoy_child_events", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    # This file's folder holds the appliance's rknn.py, which would shadow the
    # toolkit's package of the same name: take the folder off the import path.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if not (p and Path(p).resolve() == here)]
    events = child_events()
    if len(argv) != 2:
        print("usage: rknn_worker.py SPEC.json", file=sys.stderr)
        return 2
    try:
        spec = json.loads(Path(argv[1]).read_text())
        worker = Worker(spec, events)
        result = worker.run()
    except WorkerError as exc:
        print(f"rknn export failed: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as exc:
        print(f"rknn export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    worker.emit("result", data=result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
