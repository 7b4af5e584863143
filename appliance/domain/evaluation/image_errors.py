"""Per-image errors at one operating point: what to look at first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from appliance.domain.evaluation.columns import to_columns
from appliance.domain.evaluation.pairs import greedy, on_crowd, overlaps
from appliance.domain.evaluation.types import (
    Detection,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    check_iou,
)


@dataclass(frozen=True, slots=True)
class Misclassified:
    """A detection on an object, with the wrong class."""

    truth: GroundTruthObject
    detection: Detection
    iou: float


@dataclass(frozen=True, slots=True)
class ImageErrors:
    """The three kinds never overlap: a box of the wrong class on an object is
    one misclassification, not also a false positive and a miss."""

    image_id: str
    false_positives: tuple[Detection, ...]  # on no object (of any class) left unmatched
    misses: tuple[GroundTruthObject, ...]  # objects no detection met
    misclassified: tuple[Misclassified, ...]

    @property
    def total(self) -> int:
        return len(self.false_positives) + len(self.misses) + len(self.misclassified)

    @property
    def worst_first(self) -> tuple[int, int, int]:
        """Sort key: most errors first, then most misclassifications, then misses."""
        return (-self.total, -len(self.misclassified), -len(self.misses))

    def as_dict(self, class_names: Sequence[str] | None = None) -> dict[str, object]:
        def name(class_id: int) -> object:
            return class_names[class_id] if class_names is not None else class_id

        return {
            "image_id": self.image_id,
            "counts": {
                "false_positives": len(self.false_positives),
                "misses": len(self.misses),
                "misclassified": len(self.misclassified),
                "total": self.total,
            },
            "false_positives": [
                {"class": name(d.class_id), "box": list(d.box), "score": d.score}
                for d in self.false_positives
            ],
            "misses": [{"class": name(o.class_id), "box": list(o.box)} for o in self.misses],
            "misclassified": [
                {
                    "true_class": name(m.truth.class_id),
                    "predicted_class": name(m.detection.class_id),
                    "box": list(m.truth.box),
                    "detected_box": list(m.detection.box),
                    "score": m.detection.score,
                    "iou": m.iou,
                }
                for m in self.misclassified
            ],
        }


def image_errors(
    gt: Sequence[GroundTruthImage],
    dets: Sequence[ImageDetections],
    conf: float,
    iou: float,
) -> list[ImageErrors]:
    """One entry per ground-truth image, worst first (ties keep the input order).

    Detections count from score ``conf`` up. Each is first paired one to one
    with an object of its own class (highest IoU first, IoU >= ``iou``); what is
    left on both sides is then paired regardless of class: those pairs are the
    misclassifications, the detections still alone the false positives, the
    objects still alone the misses. Crowd regions are never missed, and a lone
    detection on a crowd region of its class is no false positive (as in COCO).
    """
    check_iou(iou)
    cols = to_columns(gt, dets, None)
    num_classes = 1 + int(max(cols.gt_class.max(initial=0), cols.det_class.max(initial=0)))
    objects = [o for img in gt for o in img.objects]
    found = [d for img in dets for d in img.detections]

    o = overlaps(cols, conf, iou)
    same = cols.det_class[o.dets[o.pair_det]] == cols.gt_class[o.gts[o.pair_gt]]
    taken_d = np.zeros(len(o.dets), dtype=np.bool_)
    taken_g = np.zeros(len(o.gts), dtype=np.bool_)
    greedy(o.pair_det[same], o.pair_gt[same], o.pair_iou[same], taken_d, taken_g)
    other = np.flatnonzero(~same & ~taken_d[o.pair_det] & ~taken_g[o.pair_gt])
    crossed = other[
        greedy(o.pair_det[other], o.pair_gt[other], o.pair_iou[other], taken_d, taken_g)
    ]

    n = len(gt)
    false_pos: list[list[Detection]] = [[] for _ in range(n)]
    misses: list[list[GroundTruthObject]] = [[] for _ in range(n)]
    wrong: list[list[Misclassified]] = [[] for _ in range(n)]
    lone = o.dets[~taken_d & ~on_crowd(cols, o.dets, iou, num_classes)]
    for k, image in zip(lone.tolist(), cols.det_image[lone].tolist(), strict=True):
        false_pos[image].append(found[k])
    missed = o.gts[~taken_g]
    for k, image in zip(missed.tolist(), cols.gt_image[missed].tolist(), strict=True):
        misses[image].append(objects[k])
    for d, g, v in zip(
        o.dets[o.pair_det[crossed]].tolist(),
        o.gts[o.pair_gt[crossed]].tolist(),
        o.pair_iou[crossed].tolist(),
        strict=True,
    ):
        wrong[int(cols.gt_image[g])].append(Misclassified(objects[g], found[d], v))
    errors = [
        ImageErrors(img.image_id, tuple(false_pos[i]), tuple(misses[i]), tuple(wrong[i]))
        for i, img in enumerate(gt)
    ]
    return sorted(errors, key=lambda e: e.worst_first)
