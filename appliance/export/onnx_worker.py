"""Export weights to ONNX: ``python -m appliance.export.onnx_worker SPEC``.

SPEC (JSON): ``{"weights": path, "output": path, "imgsz": n, "dynamic": bool,
"batch": n, "nms": bool, "nms_conf": x, "nms_iou": x, "opset": n|null,
"metadata": {...}, "config_dir": path}``.
Ultralytics exports (simplified, opset recorded); the appliance's metadata is
added to the model's ``metadata_props`` beside Ultralytics' own (class names,
input size, stride) as ``ahoy_<key>``. With ``"stamp_only": true`` the file at
``output`` only gets its metadata written again (an export whose version number
was taken before it was registered). Offline and network-guarded. Reports
``progress`` and ``result`` events (appliance.child_events)."""

from __future__ import annotations

import json
import shutil
import sys
import time
from importlib import metadata as dist
from pathlib import Path
from typing import Any

from appliance.child_events import emit


def main(spec_path: Path) -> None:
    spec: dict[str, Any] = json.loads(spec_path.read_text())
    from appliance.training import guard
    from appliance.training.offline import apply_offline_env

    apply_offline_env(Path(spec["config_dir"]))
    guard.install(lambda message: print(f"network use refused: {message}", flush=True))
    if spec.get("stamp_only"):
        stamp(Path(spec["output"]), spec["metadata"])
        emit("result", data={"stamped": spec["metadata"]})
        return
    from ultralytics import YOLO

    began = time.monotonic()
    emit("progress", done=0, total=2, phase="exporting")
    options: dict[str, Any] = {
        "format": "onnx",
        "imgsz": spec["imgsz"],
        "dynamic": spec["dynamic"],
        "simplify": True,
        "nms": spec["nms"],
        "device": "cpu",
    }
    if spec["dynamic"]:
        options["batch"] = spec["batch"]
    if spec["nms"]:  # the thresholds baked into the model's own NMS
        options["conf"] = spec.get("nms_conf", 0.25)
        options["iou"] = spec.get("nms_iou", 0.7)
    if spec.get("opset"):
        options["opset"] = spec["opset"]
    made = Path(YOLO(spec["weights"]).export(**options))
    emit("progress", done=1, total=2, phase="writing metadata")
    model = stamp(made, spec["metadata"])
    shutil.move(str(made), spec["output"])
    inputs = model.graph.input[0].type.tensor_type.shape.dim
    outputs = model.graph.output[0].type.tensor_type.shape.dim
    emit("progress", done=2, total=2, phase="done")
    emit(
        "result",
        data={
            "opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
            "input_shape": [d.dim_param or d.dim_value for d in inputs],
            "output_shape": [d.dim_param or d.dim_value for d in outputs],
            "seconds": round(time.monotonic() - began, 3),
            "tools": {n: dist.version(n) for n in ("ultralytics", "torch", "onnx", "onnxslim")},
        },
    )


def stamp(path: Path, metadata: dict[str, Any]) -> Any:
    """Write ``metadata`` into the ONNX file's ``metadata_props`` as ``ahoy_<key>``
    (other keys kept); returns the model."""
    import onnx

    model = onnx.load(str(path))
    props = {p.key: p.value for p in model.metadata_props}
    for key, value in metadata.items():
        props[f"ahoy_{key}"] = str(value)
    del model.metadata_props[:]
    for key, value in sorted(props.items()):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return model


if __name__ == "__main__":
    main(Path(sys.argv[1]))
