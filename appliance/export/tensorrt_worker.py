"""Build a TensorRT engine: ``python -m appliance.export.tensorrt_worker SPEC``.

SPEC (JSON): ``{"onnx": path, "engine": path, "precision": "fp16"|"int8",
"calibration": [image paths], "imgsz": n}``. INT8 calibration images are
letterboxed exactly as inference does (appliance.inference). Reports ``progress``
and ``result`` (or ``error``) events (appliance.child_events); runs only where
TensorRT and a GPU are (see ``tensorrt.status``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from appliance.child_events import emit


def main(spec_path: Path) -> None:
    spec = json.loads(spec_path.read_text())
    from ahoy_agent.runtime.letterbox import letterbox, read_image, to_tensor

    from appliance.export import tensorrt

    began = time.monotonic()
    emit("progress", done=0, total=1, phase="building the engine")
    batches = [
        to_tensor([letterbox(read_image(p), int(spec["imgsz"]))[0]]) for p in spec["calibration"]
    ]
    made = tensorrt.build_engine(
        Path(spec["onnx"]), Path(spec["engine"]), precision=spec["precision"], calibration=batches
    )
    emit("progress", done=1, total=1, phase="done")
    emit("result", data={**made, "seconds": round(time.monotonic() - began, 3)})


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]))
    except Exception as exc:
        emit("error", message=f"{type(exc).__name__}: {exc}")
        raise
