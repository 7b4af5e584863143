"""From predictions and labels to an evaluation report: the ground truth in pixels,
COCO AP per class (and COCO's twelve summary figures), the confusion matrix and
per-image errors at a stated score and IoU, and their pictures (SVG). No I/O: the
job feeds it what it read. (An export's parity: ``appliance.domain.parity``.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from appliance.domain.evaluation import (
    Detection,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    confusion_matrix,
    confusion_svg,
    evaluate,
    image_errors,
    pr_curves_svg,
)
from appliance.domain.labels.document import LabelDocument
from appliance.domain.labels.truth import truth_boxes

#: how many images the per-image error list keeps (worst first)
ERROR_IMAGES = 200


@dataclass(frozen=True)
class Report:
    summary: dict[str, Any]  # what lists and comparisons need (no curves)
    full: dict[str, Any]  # everything: per class with PR curves, confusion, errors
    pictures: dict[str, str]  # name → SVG text


def ground_truth(
    docs: Mapping[str, LabelDocument | None], sizes: Mapping[str, Sequence[int]]
) -> list[GroundTruthImage]:
    """Label documents (normalised) → objects in pixels of the image as read; a
    COCO annotation keeps its crowd flag and area (``truth_boxes``)."""
    images = []
    for image_id, doc in docs.items():
        w, h = sizes[image_id]
        boxes = truth_boxes(doc, w, h) if doc else []
        objects = tuple(GroundTruthObject(b.cls, b.box, b.crowd, b.area) for b in boxes)
        images.append(GroundTruthImage(image_id, objects))
    return images


def detections(found: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[ImageDetections]:
    """The predict worker's ``{id: [{class, score, box: x0 y0 x1 y1}]}``."""
    out = []
    for image_id, items in found.items():
        dets = tuple(
            Detection(
                int(d["class"]),
                (d["box"][0], d["box"][1], d["box"][2] - d["box"][0], d["box"][3] - d["box"][1]),
                float(d["score"]),
            )
            for d in items
        )
        out.append(ImageDetections(image_id, dets))
    return out


def report(
    gt: Sequence[GroundTruthImage],
    dets: Sequence[ImageDetections],
    names: Sequence[str],
    *,
    conf: float,
    iou: float,
) -> Report:
    result = evaluate(gt, dets, names)
    matrix = confusion_matrix(gt, dets, len(names), conf=conf, iou=iou)
    errors = sorted(image_errors(gt, dets, conf, iou), key=lambda e: e.worst_first)
    per_class = [
        {k: v for k, v in c.as_dict().items() if k != "pr_curve"} for c in result.per_class
    ]
    summary = {
        "images": result.num_images,
        "objects": result.num_objects,
        "map50": result.map50,
        "map75": result.map75,
        "map50_95": result.map50_95,
        "coco": result.coco.as_dict(),
        "per_class": per_class,
    }
    full = {
        **result.as_dict(),
        "confusion": matrix.as_dict(),
        "errors": [e.as_dict(names) for e in errors[:ERROR_IMAGES] if e.total],
        "settings": {"conf": conf, "iou": iou},
    }
    pictures = {
        "pr_curves.svg": pr_curves_svg(result),
        "confusion.svg": confusion_svg(matrix, names),
        "confusion_normalized.svg": confusion_svg(matrix, names, normalize=True),
    }
    return Report(summary, full, pictures)
