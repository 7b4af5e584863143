"""Pre-labelling with a registered Ultralytics model, in the serving process.

Weights are loaded once per digest (a small LRU: a model stays warm while people
label with it) from a file under the cache dir named by its sha256. The model's
classes are matched to the dataset's by name, so a model trained on one dataset
proposes in another's class ids; a class the dataset lacks is left out.
Ultralytics and torch are imported on first use only, offline like everywhere.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from appliance.domain.labels.document import LabelObject
from appliance.domain.labels.schema import LabelSchema
from appliance.errors import InvalidInput

KEEP = 2  # models held in memory at once


class UltralyticsPrelabeler:
    def __init__(self, ref: str, model: Any, lock: threading.Lock) -> None:
        self.ref = ref
        self.model = model
        self.lock = lock

    def propose(
        self, image: bytes, schema: LabelSchema | None, *, min_score: float
    ) -> list[LabelObject]:
        import cv2
        import numpy as np

        pixels = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR)
        if pixels is None:
            raise InvalidInput("the image cannot be decoded", hint="pre-label JPEG or PNG images")
        with self.lock:  # one prediction at a time per model (it is not thread-safe)
            result = self.model.predict(pixels, conf=max(min_score, 0.001), verbose=False)[0]
        names: dict[int, str] = result.names
        by_name = {c.name: c.id for c in schema.classes} if schema else None
        objects = []
        boxes = result.boxes
        for xywhn, cls, conf in zip(
            boxes.xywhn.tolist(), boxes.cls.tolist(), boxes.conf.tolist(), strict=True
        ):
            target = int(cls) if by_name is None else by_name.get(names[int(cls)])
            if target is None:
                continue
            box = tuple(round(min(max(v, 0.0), 1.0), 6) for v in xywhn)
            objects.append(
                LabelObject("box", target, box, attributes=(("score", round(conf, 4)),))  # type: ignore[arg-type]
            )
        return objects


class UltralyticsModels:
    """The PrelabelerRegistry of the appliance: registered weights, loaded on demand."""

    def __init__(self, cache_dir: Path) -> None:
        self.dir = cache_dir / "models"
        self._loaded: OrderedDict[str, UltralyticsPrelabeler] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, ws: str, ref: str) -> None:
        return None  # models are found through the registry, then ``load``ed

    def load(self, ref: str, sha256: str, weights: bytes) -> UltralyticsPrelabeler:
        with self._lock:
            if sha256 in self._loaded:
                self._loaded.move_to_end(sha256)
                return self._loaded[sha256]
            self.dir.mkdir(parents=True, exist_ok=True)
            path = self.dir / f"{sha256}.pt"
            if not path.exists():
                tmp = path.with_suffix(".tmp")
                tmp.write_bytes(weights)
                tmp.replace(path)
            from ultralytics import YOLO

            labeler = UltralyticsPrelabeler(ref, YOLO(str(path)), threading.Lock())
            self._loaded[sha256] = labeler
            while len(self._loaded) > KEEP:
                self._loaded.popitem(last=False)
            return labeler
