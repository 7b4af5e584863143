"""Confusion matrix of detections against ground truth, background included."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from appliance.domain.evaluation.columns import to_columns
from appliance.domain.evaluation.pairs import greedy, on_crowd, overlaps
from appliance.domain.evaluation.types import GroundTruthImage, ImageDetections, check_iou


@dataclass(frozen=True, slots=True)
class ConfusionMatrix:
    """``counts[true][predicted]`` over classes ``0..num_classes-1`` and then
    background (index ``num_classes``). A detection that meets no object is
    counted at ``[background][its class]``; an object no detection meets at
    ``[its class][background]``. The ``[background][background]`` cell stays 0.
    Detections count from score ``conf`` up, and meet an object at IoU >= ``iou``."""

    counts: tuple[tuple[int, ...], ...]
    num_classes: int
    conf: float
    iou: float

    @property
    def background(self) -> int:
        return self.num_classes

    def normalized(self) -> tuple[tuple[float, ...], ...]:
        """Each row over its total: of the objects of a true class, the share
        predicted as each class (rows with nothing in them stay 0)."""
        return tuple(
            tuple(c / total if (total := sum(row)) else 0.0 for c in row) for row in self.counts
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "num_classes": self.num_classes,
            "conf": self.conf,
            "iou": self.iou,
            "counts": [list(row) for row in self.counts],
        }


def confusion_matrix(
    gt: Sequence[GroundTruthImage],
    dets: Sequence[ImageDetections],
    num_classes: int,
    conf: float = 0.25,
    iou: float = 0.45,
) -> ConfusionMatrix:
    """Pairs detections with objects of the same image one to one, highest IoU
    first and regardless of class (as Ultralytics' ConfusionMatrix does), so a
    box of the wrong class lands off the diagonal rather than as a miss plus a
    false positive. A crowd region is never counted; a detection left unpaired
    that lies on a crowd region of its own class (IoU over its own area) is not
    counted either, as COCO ignores it."""
    check_iou(iou)
    cols = to_columns(gt, dets, num_classes)
    o = overlaps(cols, conf, iou)
    taken_d = np.zeros(len(o.dets), dtype=np.bool_)
    taken_g = np.zeros(len(o.gts), dtype=np.bool_)
    picked = greedy(o.pair_det, o.pair_gt, o.pair_iou, taken_d, taken_g)

    d_cls, g_cls = cols.det_class[o.dets], cols.gt_class[o.gts]
    bg = num_classes
    counts = np.zeros((num_classes + 1, num_classes + 1), dtype=np.int64)
    np.add.at(counts, (g_cls[o.pair_gt[picked]], d_cls[o.pair_det[picked]]), 1)
    counts[:bg, bg] += np.bincount(g_cls[~taken_g], minlength=num_classes)
    stray = ~taken_d & ~on_crowd(cols, o.dets, iou, num_classes)
    counts[bg, :bg] += np.bincount(d_cls[stray], minlength=num_classes)
    return ConfusionMatrix(
        counts=tuple(tuple(row) for row in counts.tolist()),
        num_classes=num_classes,
        conf=conf,
        iou=iou,
    )
