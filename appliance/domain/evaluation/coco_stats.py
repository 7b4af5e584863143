"""COCO's twelve summary figures (``COCOeval.stats``, in its order): AP over IoU
0.50:0.95, at 0.50 and at 0.75; AP by object size; average recall with at most 1,
10 and 100 detections per image and class; average recall by object size.

Sizes are COCO's area ranges (:data:`AREA_RANGES`): an object's own area (the
annotation's ``area``, else its box's w x h) and a detection's box area. Each
range is matched anew, as COCOeval does: objects outside it are ignored, and so
are the detections left unmatched outside it. Recall is the share of the objects
found at each IoU threshold, averaged over the thresholds, then over the classes
that have objects (in that size range)."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np
from numpy.typing import NDArray

from appliance.domain.evaluation.columns import Columns
from appliance.domain.evaluation.matching import AREA_RANGES, Matches, match

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

RECALL_POINTS = np.linspace(0.0, 1.0, 101)
SIZES = ("small", "medium", "large")


@dataclass(frozen=True, slots=True)
class CocoStats:
    """``None`` where COCO prints -1: no class has objects of that size."""

    ap: float | None  # AP @ IoU 0.50:0.95, area all, 100 detections
    ap50: float | None
    ap75: float | None
    ap_small: float | None  # area < 32²
    ap_medium: float | None  # 32² .. 96²
    ap_large: float | None  # > 96²
    ar1: float | None  # AR @ IoU 0.50:0.95 with at most 1 detection per image and class
    ar10: float | None
    ar100: float | None  # at the evaluation's max_dets (100 unless set otherwise)
    ar_small: float | None
    ar_medium: float | None
    ar_large: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def as_list(self) -> list[float | None]:
        """In ``COCOeval.stats`` order."""
        return list(astuple(self))


#: how COCOeval.summarize names each figure
LABELS = {
    "ap": "AP @ IoU 0.50:0.95",
    "ap50": "AP @ IoU 0.50",
    "ap75": "AP @ IoU 0.75",
    "ap_small": "AP small (< 32² px)",
    "ap_medium": "AP medium",
    "ap_large": "AP large (> 96² px)",
    "ar1": "AR, 1 detection",
    "ar10": "AR, 10 detections",
    "ar100": "AR, 100 detections",
    "ar_small": "AR small",
    "ar_medium": "AR medium",
    "ar_large": "AR large",
}


def class_order(found: Matches, num_classes: int) -> tuple[Ints, list[int]]:
    """COCOeval's accumulate order: per class, the detections of every image by
    score; equal scores keep image order, then their order within the image.
    ``order[bounds[k]:bounds[k + 1]]`` are class k's."""
    order = np.lexsort((found.det_rank, found.det_image, -found.det_score, found.det_class))
    bounds = np.searchsorted(found.det_class[order], np.arange(num_classes + 1)).tolist()
    return order, bounds


def interpolated(tp: Floats, fp: Floats, num_gt: int, score: Floats) -> tuple[Floats, Floats]:
    """(thresholds, 101) precision, and the score where each recall is reached,
    exactly as COCOeval's accumulate computes them."""
    precision = np.zeros((tp.shape[0], len(RECALL_POINTS)))
    scores = np.zeros_like(precision)
    if tp.shape[1] == 0:
        return precision, scores
    recall = tp / num_gt
    raw = tp / (fp + tp + np.spacing(1))
    envelope = np.maximum.accumulate(raw[:, ::-1], axis=1)[:, ::-1]
    for t in range(tp.shape[0]):
        idx = np.searchsorted(recall[t], RECALL_POINTS, side="left")
        ok = idx < tp.shape[1]
        precision[t, ok] = envelope[t, idx[ok]]
        scores[t, ok] = score[idx[ok]]
    return precision, scores


def hits(found: Matches, sel: Ints) -> tuple[Floats, Floats]:
    """Cumulative true and false positives of the detections ``sel`` (in order)."""
    matched, ignored = found.matched[:, sel], found.ignored[:, sel]
    tp = np.cumsum(matched & ~ignored, axis=1, dtype=np.float64)
    fp = np.cumsum(~matched & ~ignored, axis=1, dtype=np.float64)
    return tp, fp


def coco_stats(
    cols: Columns,
    num_classes: int,
    evaluated: Floats,
    requested: Bools,
    max_dets: int,
    found: Matches,
    headline: tuple[float | None, float | None, float | None],
) -> CocoStats:
    """``found``: the matches of area "all" (already made for the per-class AP);
    ``headline``: the AP, AP50 and AP75 computed from them."""
    caps = sorted({min(1, max_dets), min(10, max_dets), max_dets})
    ar = dict(zip(caps, _recall(found, num_classes, requested, caps), strict=True))
    ap_by, ar_by = {}, {}
    for size in SIZES:
        sized = match(cols, num_classes, evaluated, max_dets, AREA_RANGES[size])
        ap_by[size] = _ap(sized, num_classes, requested)
        ar_by[size] = _recall(sized, num_classes, requested, [max_dets])[0]
    return CocoStats(
        ap=headline[0],
        ap50=headline[1],
        ap75=headline[2],
        ap_small=ap_by["small"],
        ap_medium=ap_by["medium"],
        ap_large=ap_by["large"],
        ar1=ar[min(1, max_dets)],
        ar10=ar[min(10, max_dets)],
        ar100=ar[max_dets],
        ar_small=ar_by["small"],
        ar_medium=ar_by["medium"],
        ar_large=ar_by["large"],
    )


def _ap(found: Matches, num_classes: int, requested: Bools) -> float | None:
    order, bounds = class_order(found, num_classes)
    per_class = []
    for k in range(num_classes):
        num_gt = int(found.gt_counted[k])
        if num_gt == 0:
            continue
        sel = order[bounds[k] : bounds[k + 1]]
        tp, fp = hits(found, sel)
        precision, _ = interpolated(tp[requested], fp[requested], num_gt, found.det_score[sel])
        per_class.append(float(precision.mean()))
    return _mean(per_class)


def _recall(
    found: Matches, num_classes: int, requested: Bools, caps: list[int]
) -> list[float | None]:
    """Average recall with at most ``cap`` detections per image and class, per cap."""
    counted = found.gt_counted
    good = (found.matched & ~found.ignored)[requested]
    out = []
    for cap in caps:
        within = found.det_rank < cap
        per_thr_class = np.zeros((good.shape[0], num_classes))
        for t in range(good.shape[0]):
            per_thr_class[t] = np.bincount(
                found.det_class[within & good[t]], minlength=num_classes
            )[:num_classes]
        present = counted > 0
        recall = per_thr_class[:, present] / counted[present]
        out.append(_mean(recall.mean(axis=0).tolist()))
    return out


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
