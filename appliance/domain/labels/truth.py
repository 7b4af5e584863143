"""What evaluation scores a label document against: one box per annotation, in
the pixels of the image as read.

An object imported from COCO is scored as COCO scores it: with the other objects
of its annotation (the rings of one polygon are one object to find, not one
each), its bbox, its ``area`` (which sorts it into small / medium / large) and
its ``iscrowd`` (a crowd region: detections on it are neither right nor wrong),
as COCO export writes them, so the original values while the annotation is
untouched. Any other object is its own box, with the area of that box.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.domain.labels.coco_model import ANN_ID, attribute, is_id
from appliance.domain.labels.coco_write import annotations_of
from appliance.domain.labels.document import LabelDocument, LabelObject


@dataclass(frozen=True, slots=True)
class TruthBox:
    cls: int
    box: tuple[float, float, float, float]  # x0, y0, w, h in pixels
    crowd: bool = False
    area: float | None = None  # the annotation's own area in pixels; None: w x h


def truth_boxes(doc: LabelDocument, width: int, height: int) -> list[TruthBox]:
    if doc.size is None or not any(is_id(attribute(o, ANN_ID)) for o in doc.objects):
        return [_plain(o, width, height) for o in doc.objects]
    # the document's own size is what its COCO pixels are in; scale to the image read
    sx, sy = width / doc.size[0], height / doc.size[1]
    out = []
    for first, ann in annotations_of(doc, doc.size):
        if not is_id(attribute(first, ANN_ID)):
            out.append(_plain(first, width, height))
            continue
        x, y, w, h = (float(v) for v in ann["bbox"])
        area = float(ann["area"])
        if (sx, sy) != (1.0, 1.0):
            x, y, w, h, area = x * sx, y * sy, w * sx, h * sy, area * sx * sy
        out.append(TruthBox(first.cls, (x, y, w, h), ann["iscrowd"] == 1, area))
    return out


def _plain(obj: LabelObject, width: int, height: int) -> TruthBox:
    cx, cy, bw, bh = obj.bbox()
    return TruthBox(
        obj.cls, ((cx - bw / 2) * width, (cy - bh / 2) * height, bw * width, bh * height)
    )
