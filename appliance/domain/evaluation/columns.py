"""Every box of every image as flat arrays: the form the vectorised steps work on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from numpy.typing import NDArray

from appliance.domain.evaluation.types import (
    Box,
    ClassOutOfRange,
    GroundTruthImage,
    ImageDetections,
    UnknownImages,
    check_unique,
)

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Columns:
    """Ground truth and detections, images numbered in the order of the ground
    truth list; each image's boxes keep the order they were given in."""

    image_ids: tuple[str, ...]
    gt_image: Ints
    gt_class: Ints
    gt_box: Floats  # (n, 4) x0, y0, w, h
    gt_crowd: Bools
    gt_area: Floats  # the object's area, else w * h: what COCO's area ranges read
    det_image: Ints
    det_class: Ints
    det_box: Floats  # (n, 4) x0, y0, w, h
    det_score: Floats


def to_columns(
    gt: Sequence[GroundTruthImage], dets: Sequence[ImageDetections], num_classes: int | None
) -> Columns:
    """Flatten and check: image ids unique, detections only on known images,
    class ids within ``0..num_classes-1`` (only >= 0 when ``num_classes`` is None)."""
    image_ids = tuple(img.image_id for img in gt)
    check_unique("ground truth", image_ids)
    check_unique("detections", (d.image_id for d in dets))
    index = {image_id: i for i, image_id in enumerate(image_ids)}
    unknown = [d.image_id for d in dets if d.image_id not in index]
    if unknown:
        raise UnknownImages(unknown)

    objects = [o for img in gt for o in img.objects]
    gt_image = np.repeat(
        np.arange(len(gt), dtype=np.int64),
        np.fromiter((len(img.objects) for img in gt), np.int64, len(gt)),
    )
    gt_box = _boxes(o.box for o in objects).reshape(len(objects), 4)
    given = np.fromiter((np.nan if o.area is None else o.area for o in objects), np.float64)
    gt_area = np.where(np.isnan(given), gt_box[:, 2] * gt_box[:, 3], given)
    found = [d for img in dets for d in img.detections]
    det_image = np.repeat(
        np.fromiter((index[d.image_id] for d in dets), np.int64, len(dets)),
        np.fromiter((len(d.detections) for d in dets), np.int64, len(dets)),
    )
    cols = Columns(
        image_ids=image_ids,
        gt_image=gt_image,
        gt_class=np.fromiter((o.class_id for o in objects), np.int64, len(objects)),
        gt_box=gt_box,
        gt_crowd=np.fromiter((o.crowd for o in objects), np.bool_, len(objects)),
        gt_area=gt_area,
        det_image=det_image,
        det_class=np.fromiter((d.class_id for d in found), np.int64, len(found)),
        det_box=_boxes(d.box for d in found).reshape(len(found), 4),
        det_score=np.fromiter((d.score for d in found), np.float64, len(found)),
    )
    classes = np.concatenate([cols.gt_class, cols.det_class])
    too_high = classes >= num_classes if num_classes is not None else False
    bad = np.unique(classes[(classes < 0) | too_high])
    if bad.size:
        raise ClassOutOfRange(bad.tolist(), num_classes)
    return cols


def _boxes(boxes: Iterable[Box]) -> Floats:
    return np.fromiter(chain.from_iterable(boxes), np.float64)
