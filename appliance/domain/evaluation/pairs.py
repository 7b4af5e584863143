"""Candidate (detection, ground truth) pairs: which boxes meet, by how much, and a
one-to-one choice among them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.domain.evaluation.columns import Bools, Columns, Floats, Ints


def pairs_by_key(a_key: Ints, b_key: Ints) -> tuple[Ints, Ints]:
    """Every ``(i, j)`` with ``a_key[i] == b_key[j]``, ordered by ``i`` then ``j``."""
    b_order = np.argsort(b_key, kind="stable")
    b_sorted = b_key[b_order]
    lo = np.searchsorted(b_sorted, a_key, side="left")
    counts = np.searchsorted(b_sorted, a_key, side="right") - lo
    total = int(counts.sum())
    a_idx = np.repeat(np.arange(len(a_key), dtype=np.int64), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    b_idx = b_order[np.repeat(lo, counts) + offsets]
    return a_idx, b_idx.astype(np.int64, copy=False)


def box_iou(det: Floats, gt: Floats, crowd: Bools) -> Floats:
    """IoU of row-aligned ``(n, 4)`` boxes ``x0, y0, w, h``; over a crowd region
    the union is the detection's own area (how much of it lies in the crowd).

    Each operation is the one pycocotools' ``bbIou`` does, in the same order, so
    the same boxes give the same float and equal IoUs tie the same way.
    """
    w = np.minimum(det[:, 2] + det[:, 0], gt[:, 2] + gt[:, 0]) - np.maximum(det[:, 0], gt[:, 0])
    h = np.minimum(det[:, 3] + det[:, 1], gt[:, 3] + gt[:, 1]) - np.maximum(det[:, 1], gt[:, 1])
    inter = w * h
    det_area = det[:, 2] * det[:, 3]
    union = np.where(crowd, det_area, det_area + gt[:, 2] * gt[:, 3] - inter)
    meet = (w > 0) & (h > 0)
    return np.divide(inter, union, out=np.zeros_like(inter), where=meet)


def greedy(a: Ints, b: Ints, iou: Floats, taken_a: Bools, taken_b: Bools) -> Bools:
    """Pick pairs one to one, highest IoU first (ties: lower ``a``, then lower
    ``b``), skipping pairs whose ``a`` or ``b`` is already taken. Marks what it
    picks in ``taken_a`` / ``taken_b`` and returns the picked pairs as a mask."""
    picked = np.zeros(len(a), dtype=np.bool_)
    used_a, used_b = taken_a.tolist(), taken_b.tolist()
    a_list, b_list = a.tolist(), b.tolist()
    for k in np.lexsort((b, a, -iou)).tolist():
        i, j = a_list[k], b_list[k]
        if not used_a[i] and not used_b[j]:
            used_a[i] = used_b[j] = True
            picked[k] = True
    taken_a[a[picked]] = True
    taken_b[b[picked]] = True
    return picked


@dataclass(frozen=True, slots=True)
class Overlaps:
    """Detections scoring from ``conf`` up and the objects (no crowd regions) of
    the same image that they meet at IoU >= ``iou``, whatever the classes."""

    dets: Ints  # indices into the columns' detections
    gts: Ints  # indices into the columns' ground truth
    pair_det: Ints  # into ``dets``
    pair_gt: Ints  # into ``gts``
    pair_iou: Floats


def overlaps(cols: Columns, conf: float, iou: float) -> Overlaps:
    dets = np.flatnonzero(cols.det_score >= conf)
    gts = np.flatnonzero(~cols.gt_crowd)
    p_det, p_gt = pairs_by_key(cols.det_image[dets], cols.gt_image[gts])
    p_iou = box_iou(
        cols.det_box[dets[p_det]], cols.gt_box[gts[p_gt]], np.zeros(len(p_det), dtype=np.bool_)
    )
    meet = p_iou >= iou
    return Overlaps(dets, gts, p_det[meet], p_gt[meet], p_iou[meet])


def on_crowd(cols: Columns, dets: Ints, iou: float, num_classes: int) -> Bools:
    """Which of the detections ``dets`` lie on a crowd region of their own class
    (intersection over the detection's own area >= ``iou``)."""
    crowds = np.flatnonzero(cols.gt_crowd)
    out = np.zeros(len(dets), dtype=np.bool_)
    if not len(crowds):
        return out
    p_det, p_crowd = pairs_by_key(
        cols.det_image[dets] * num_classes + cols.det_class[dets],
        cols.gt_image[crowds] * num_classes + cols.gt_class[crowds],
    )
    p_iou = box_iou(
        cols.det_box[dets[p_det]], cols.gt_box[crowds[p_crowd]], np.ones(len(p_det), np.bool_)
    )
    out[p_det[p_iou >= iou]] = True
    return out
