"""COCOeval's per-image matching (``evaluateImg``), all images and IoU thresholds
at once.

COCOeval walks each image and class, each threshold, each detection by score and
each ground-truth box. The decision it makes for one detection is: among the
ground-truth boxes of its image and class still free at this threshold (crowd
regions never fill up) with IoU >= the threshold, take a regular box before an
ignored one, then the highest IoU, then the later box. Only detections of the
same image and class compete, one after another in score order; so here the
k-th detection of every image and class is decided in the same step, for every
threshold at once, and the steps are as many as the longest list (at most
``max_dets``), not as many as images x classes x thresholds x detections.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from appliance.domain.evaluation.columns import Columns
from appliance.domain.evaluation.pairs import box_iou, pairs_by_key

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

#: COCO's area ranges (both ends included, as COCOeval compares): ground truth
#: outside the range is ignored, and so are unmatched detections outside it.
AREA_ALL = (0.0, 1e5**2)
AREA_RANGES: dict[str, tuple[float, float]] = {
    "all": AREA_ALL,
    "small": (0.0, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e5**2),
}


@dataclass(frozen=True, slots=True)
class Matches:
    """The detections COCOeval evaluates (the best ``max_dets`` per image and
    class), with their outcome at each IoU threshold."""

    det_class: Ints
    det_image: Ints
    det_rank: Ints  # position within its image and class, by score
    det_score: Floats
    matched: Bools  # (thresholds, detections): matched to a ground-truth box
    ignored: Bools  # (thresholds, detections): matched to a crowd/ignored box, or out of range
    gt_counted: Ints  # per class: ground-truth boxes that count (not crowd, not ignored)


def match(
    cols: Columns,
    num_classes: int,
    thresholds: Floats,
    max_dets: int,
    area: tuple[float, float] = AREA_ALL,
) -> Matches:
    # the best max_dets per image and class, by score; equal scores keep their
    # input order (COCOeval's mergesort)
    d_group = cols.det_image * num_classes + cols.det_class
    order = np.lexsort((-cols.det_score, d_group))
    d_group = d_group[order]
    rank = np.arange(len(order), dtype=np.int64) - np.searchsorted(d_group, d_group)
    keep = rank < max_dets
    order, rank, d_group = order[keep], rank[keep], d_group[keep]
    d_box = cols.det_box[order]
    d_area = d_box[:, 2] * d_box[:, 3]

    # ground truth: ignored boxes last within each image and class, as COCOeval sorts them
    g_area = cols.gt_area
    g_ignored = cols.gt_crowd | (g_area < area[0]) | (g_area > area[1])
    g_group = cols.gt_image * num_classes + cols.gt_class
    g_order = np.lexsort((g_ignored, g_group))
    g_group, g_box = g_group[g_order], cols.gt_box[g_order]
    g_crowd, g_ignored_sorted = cols.gt_crowd[g_order], g_ignored[g_order]

    # COCOeval accepts IoU >= min(t, 1 - 1e-10)
    thr = np.minimum(thresholds, 1 - 1e-10)
    p_det, p_gt = pairs_by_key(d_group, g_group)
    p_iou = box_iou(d_box[p_det], g_box[p_gt], g_crowd[p_gt])
    meet = p_iou >= thr.min()
    p_det, p_gt, p_iou = p_det[meet], p_gt[meet], p_iou[meet]
    # within a detection, the preferred pair last: regular before ignored, then
    # IoU, then the later box (COCOeval replaces its pick on an equal IoU)
    by = np.lexsort((p_gt, p_iou, ~g_ignored_sorted[p_gt], p_det, rank[p_det]))
    p_det, p_gt, p_iou = p_det[by], p_gt[by], p_iou[by]
    p_rank = rank[p_det]

    n_thr = len(thr)
    matched = np.zeros((n_thr, len(order)), dtype=np.bool_)
    ignored = np.zeros((n_thr, len(order)), dtype=np.bool_)
    taken = np.zeros((n_thr, len(g_group)), dtype=np.bool_)
    # one step per rank: the pairs of the k-th detection of every image and class
    bounds = [0, *(np.flatnonzero(np.diff(p_rank)) + 1).tolist(), len(p_rank)]
    for start, end in pairwise(bounds if len(p_rank) else []):
        dets, gts = p_det[start:end], p_gt[start:end]
        valid = (p_iou[start:end] >= thr[:, None]) & ~taken[:, gts]
        segments = np.flatnonzero(np.diff(dets, prepend=-1))
        best = np.maximum.reduceat(np.where(valid, np.arange(end - start), -1), segments, axis=1)
        t_idx, s_idx = np.nonzero(best >= 0)
        gt_hit = gts[best[t_idx, s_idx]]
        det_hit = dets[segments[s_idx]]
        matched[t_idx, det_hit] = True
        ignored[t_idx, det_hit] = g_ignored_sorted[gt_hit]
        solid = ~g_crowd[gt_hit]
        taken[t_idx[solid], gt_hit[solid]] = True

    outside = (d_area < area[0]) | (d_area > area[1])
    ignored |= ~matched & outside
    counted = cols.gt_class[~g_ignored]
    return Matches(
        det_class=cols.det_class[order],
        det_image=cols.det_image[order],
        det_rank=rank,
        det_score=cols.det_score[order],
        matched=matched,
        ignored=ignored,
        gt_counted=np.bincount(counted, minlength=num_classes).astype(np.int64),
    )
