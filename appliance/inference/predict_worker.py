"""Run a model over images: ``python -m appliance.inference.predict_worker SPEC``.

SPEC (JSON): ``{"model": path, "format": "pt"|"onnx", "imgsz": n, "batch": n,
"threads": n, "images": [{"id": str, "path": str}], "out": path}``. Writes
``out`` as ``{"detections": {id: [{class, score, box}]}, "sizes": {id: [w, h]},
"timing": {...}}``. Reports ``progress`` and ``result`` (or ``error``) events
(appliance.child_events). Offline and network-guarded like the training worker."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from appliance.child_events import emit


def main(spec_path: Path) -> None:
    spec = json.loads(spec_path.read_text())
    _offline(spec)
    from ahoy_agent.runtime.decode import decode
    from ahoy_agent.runtime.letterbox import letterbox, read_image, to_tensor

    from appliance.inference import backends

    backend = backends.load(spec["model"], spec["format"], int(spec.get("threads", 1)))
    size = backend.input_size or int(spec["imgsz"])
    batch_size = backend.fixed_batch or int(spec.get("batch", 8))
    classes = len(backend.names) or None  # a segment or pose head has more channels
    images = spec["images"]
    detections: dict[str, Any] = {}
    sizes: dict[str, list[int]] = {}
    forward_s = 0.0
    emit("progress", done=0, total=len(images), phase="predicting")
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        boxed, fitted = zip(*(letterbox(read_image(i["path"]), size) for i in chunk), strict=True)
        began = time.perf_counter()
        raw = backend.run(to_tensor(list(boxed)))
        forward_s += time.perf_counter() - began
        found_all = decode(raw, list(fitted), classes=classes, nms_inside=backend.nms_inside)
        for item, fit, found in zip(chunk, fitted, found_all, strict=True):
            detections[item["id"]] = found.as_list()
            sizes[item["id"]] = [fit.width, fit.height]
        emit("progress", done=start + len(chunk), total=len(images), phase="predicting")
    timing = {
        "images": len(images),
        "imgsz": size,
        "batch": batch_size,
        "forward_ms_per_image": round(1000 * forward_s / max(1, len(images)), 3),
    }
    Path(spec["out"]).write_text(
        json.dumps(
            {
                "detections": detections,
                "sizes": sizes,
                "timing": timing,
                "names": {str(k): v for k, v in backend.names.items()},
            }
        )
    )
    emit("result", data=timing)


def _offline(spec: dict[str, Any]) -> None:
    if spec.get("config_dir"):
        from appliance.training.offline import apply_offline_env

        apply_offline_env(Path(spec["config_dir"]))
    from appliance.training import guard

    guard.install(lambda message: print(f"network use refused: {message}", flush=True))


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]))
    except Exception as exc:  # said on the job, then the traceback in its log
        emit("error", message=f"{type(exc).__name__}: {exc}")
        raise
