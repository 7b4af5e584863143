"""What an evaluation reads: ground truth and detections per image, in pixels.

Boxes are ``(x0, y0, w, h)``: top-left corner, width and height, as COCO writes
them. Class ids index the list of class names given alongside.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from appliance.errors import InvalidInput

Box = tuple[float, float, float, float]

#: COCO's IoU thresholds 0.50:0.05:0.95, built exactly as COCOeval builds them
#: (``np.linspace``), so the 0.9 threshold is the same float as theirs.
COCO_IOU_THRESHOLDS: tuple[float, ...] = tuple(np.linspace(0.5, 0.95, 10).tolist())
#: COCO's recall grid: 101 points 0, 0.01, ..., 1.
RECALL_GRID: tuple[float, ...] = tuple(np.linspace(0.0, 1.0, 101).tolist())


@dataclass(frozen=True, slots=True)
class GroundTruthObject:
    """One labelled object. A ``crowd`` box marks a region of many objects
    (COCO's ``iscrowd``): detections on it are neither right nor wrong. ``area``
    sorts it into COCO's small / medium / large (the annotation's own ``area``,
    e.g. of its mask); ``None``: the box's width x height."""

    class_id: int
    box: Box
    crowd: bool = False
    area: float | None = None


@dataclass(frozen=True, slots=True)
class GroundTruthImage:
    image_id: str
    objects: tuple[GroundTruthObject, ...] = ()


@dataclass(frozen=True, slots=True)
class Detection:
    class_id: int
    box: Box
    score: float


@dataclass(frozen=True, slots=True)
class ImageDetections:
    image_id: str
    detections: tuple[Detection, ...] = field(default=())


# -- errors ------------------------------------------------------------------------


class DuplicateImages(InvalidInput):
    code = "evaluation-duplicate-images"

    def __init__(self, where: str, image_ids: list[str]) -> None:
        super().__init__(
            f"the {where} list names {len(image_ids)} image(s) more than once: "
            + ", ".join(repr(i) for i in image_ids[:10]),
            hint="give each image once, with all of its boxes",
        )
        self.where = where
        self.image_ids = image_ids


class UnknownImages(InvalidInput):
    code = "evaluation-unknown-images"

    def __init__(self, image_ids: list[str]) -> None:
        super().__init__(
            f"detections name {len(image_ids)} image(s) without ground truth: "
            + ", ".join(repr(i) for i in image_ids[:10]),
            hint="list every evaluated image in the ground truth, with no objects if it has none",
        )
        self.image_ids = image_ids


class ClassOutOfRange(InvalidInput):
    code = "evaluation-class-out-of-range"

    def __init__(self, class_ids: list[int], num_classes: int | None) -> None:
        upper = "" if num_classes is None else f"..{num_classes - 1}"
        super().__init__(
            f"class id(s) {class_ids[:10]} are outside 0{upper}",
            hint="class ids index the list of class names",
        )
        self.class_ids = class_ids
        self.num_classes = num_classes


class InvalidThresholds(InvalidInput):
    code = "evaluation-invalid-thresholds"

    def __init__(self, name: str, value: object, expected: str) -> None:
        super().__init__(f"{name}={value!r} is not valid", hint=expected)
        self.name = name
        self.value = value


def check_unique(where: str, image_ids: Iterable[str]) -> None:
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for image_id in image_ids:
        if image_id in seen:
            repeated[image_id] = None
        seen.add(image_id)
    if repeated:
        raise DuplicateImages(where, list(repeated))


def check_iou(iou: float) -> None:
    if not 0.0 < iou <= 1.0:
        raise InvalidThresholds("iou", iou, "give an IoU in (0, 1]")
