"""COCO average precision (COCOeval ``evaluate`` + ``accumulate``), per class
(area range "all") and overall, with the F1-best operating point and COCO's
twelve summary figures (AP and AR by size, AR at 1, 10 and 100 detections)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from appliance.domain.evaluation.coco_stats import class_order, coco_stats, hits, interpolated
from appliance.domain.evaluation.columns import to_columns
from appliance.domain.evaluation.matching import Matches, match
from appliance.domain.evaluation.results import ClassResult, Evaluation, PRCurve, mean_of
from appliance.domain.evaluation.types import (
    COCO_IOU_THRESHOLDS,
    RECALL_GRID,
    GroundTruthImage,
    ImageDetections,
    InvalidThresholds,
)

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


def evaluate(
    gt: Sequence[GroundTruthImage],
    dets: Sequence[ImageDetections],
    classes: Sequence[str],
    *,
    iou_thresholds: Sequence[float] = COCO_IOU_THRESHOLDS,
    max_dets: int = 100,
) -> Evaluation:
    """Score ``dets`` against ``gt`` as pycocotools' COCOeval does for boxes
    (``maxDets`` = ``max_dets``, which COCO applies per image *and class*). Per
    class: area range "all". ``ap50_95`` is the mean over ``iou_thresholds``; AP50
    and AP75 are computed whether or not those thresholds are among them;
    ``coco`` holds COCOeval's twelve ``stats``.

    Images are taken in the order of ``gt``, which decides (as COCO's image ids
    do) the order of equal scores across images. Detections of images absent
    from ``gt`` are refused, as COCO refuses them.
    """
    thresholds = _checked(iou_thresholds, max_dets)
    evaluated = np.array(sorted({*thresholds, 0.5, 0.75}))
    cols = to_columns(gt, dets, len(classes))
    found = match(cols, len(classes), evaluated, max_dets)
    requested = np.isin(evaluated, thresholds)
    at = {t: int(np.flatnonzero(evaluated == t)[0]) for t in (0.5, 0.75)}
    order, bounds = class_order(found, len(classes))
    per_class = tuple(
        _class_result(k, name, found, order[bounds[k] : bounds[k + 1]], requested, at)
        for k, name in enumerate(classes)
    )
    headline = (
        mean_of([c.ap50_95 for c in per_class]),
        mean_of([c.ap50 for c in per_class]),
        mean_of([c.ap75 for c in per_class]),
    )
    stats = coco_stats(cols, len(classes), evaluated, requested, max_dets, found, headline)
    return Evaluation(
        classes=tuple(classes),
        iou_thresholds=thresholds,
        max_dets=max_dets,
        num_images=len(gt),
        per_class=per_class,
        map50=headline[1],
        map75=headline[2],
        map50_95=headline[0],
        coco=stats,
    )


def _checked(iou_thresholds: Sequence[float], max_dets: int) -> tuple[float, ...]:
    thresholds = tuple(sorted({float(t) for t in iou_thresholds}))
    if not thresholds or not all(0.0 < t <= 1.0 for t in thresholds):
        raise InvalidThresholds(
            "iou_thresholds", list(iou_thresholds), "give one or more IoU values in (0, 1]"
        )
    if max_dets < 1:
        raise InvalidThresholds(
            "max_dets", max_dets, "keep at least one detection per image and class"
        )
    return thresholds


def _class_result(
    k: int, name: str, found: Matches, sel: Ints, requested: Bools, at: dict[float, int]
) -> ClassResult:
    num_gt, n, i50, i75 = int(found.gt_counted[k]), len(sel), at[0.5], at[0.75]
    if num_gt == 0:
        return ClassResult(k, name, 0, n, None, None, None, None, None, None, None, None)
    score = found.det_score[sel]
    tp, fp = hits(found, sel)
    precision, scores = interpolated(tp, fp, num_gt, score)
    p, r, f1, confidence = _best_f1(tp[i50], fp[i50], num_gt, score)
    return ClassResult(
        class_id=k,
        name=name,
        num_gt=num_gt,
        num_detections=n,
        ap50=float(precision[i50].mean()),
        ap75=float(precision[i75].mean()),
        ap50_95=float(precision[requested].mean()),
        precision=p,
        recall=r,
        f1=f1,
        confidence=confidence,
        pr_curve=PRCurve(RECALL_GRID, tuple(precision[i50].tolist()), tuple(scores[i50].tolist())),
    )


def _best_f1(
    tp: Floats, fp: Floats, num_gt: int, score: Floats
) -> tuple[float, float, float, float | None]:
    """(precision, recall, F1, score threshold) where F1 is highest. Only the last
    of equal scores is a place a threshold can stop; on a tie the higher score wins."""
    if len(score) == 0:
        return 0.0, 0.0, 0.0, None
    ends = np.flatnonzero(np.append(score[1:] != score[:-1], True))
    tp, fp = tp[ends], fp[ends]
    p = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=tp + fp > 0)
    r = tp / num_gt
    f1 = np.divide(2 * p * r, p + r, out=np.zeros_like(tp), where=p + r > 0)
    best = int(np.argmax(f1))
    return float(p[best]), float(r[best]), float(f1[best]), float(score[ends[best]])
