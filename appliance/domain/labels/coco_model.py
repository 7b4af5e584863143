"""The pieces COCO import and export share: categories, the import result, the
attribute names that keep a COCO annotation exact, and the pixel ↔ 0..1 maths.

The contract (what is kept where, and when export trusts it) is in ``coco.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from appliance.domain.canonical import canonical_json
from appliance.domain.labels.document import LabelDocument, LabelError, LabelObject

# A data problem found while reading: where it is and what is wrong. The same type
# the YOLO reader returns, so a caller reports every format's problems one way.
LabelProblem = LabelError

# Document ``extra`` (file-level attributes)
IMAGE_ID = "coco.image_id"  # the image record's id
IMAGE_EXTRA = "coco.image"  # JSON of the image record's other keys (license, date_captured…)
# Object attributes
ANN_ID = "coco.id"  # on every object an annotation became
PARTS = "coco.parts"  # on the head: how many objects the annotation became
BBOX = "coco.bbox"  # on the head: JSON of the original pixel bbox
AREA = "coco.area"  # on the head: the original area
ISCROWD = "coco.iscrowd"  # on the head: the original iscrowd
SEGMENTATION = "coco.segmentation"  # on the head: JSON of an RLE or [] (not carried by rings)
ABSENT = "coco.absent"  # on the head: standard keys the original lacked, comma-separated
ANN_EXTRA = "coco.extra"  # on the head: JSON of the annotation's non-standard keys
RING = "coco.ring"  # on a polygon: JSON of its original flat pixel ring
KEYPOINTS = "coco.keypoints"  # on a keypoints object: JSON of the original flat [x, y, v…]

IMAGE_KEYS = ("id", "file_name", "width", "height")
ANN_KEYS = (
    "id",
    "image_id",
    "category_id",
    "bbox",
    "area",
    "iscrowd",
    "segmentation",
    "keypoints",
    "num_keypoints",
)
CATEGORY_KEYS = ("id", "name", "supercategory", "keypoints", "skeleton")
DEFAULT_TOP: dict[str, Any] = {"info": {}, "licenses": []}


@dataclass(frozen=True)
class CocoCategory:
    """A COCO category. ``skeleton`` keeps COCO's 1-based keypoint indexes;
    ``None`` means the key was absent (an empty list is kept as empty)."""

    id: int
    name: str
    supercategory: str | None = None
    keypoints: tuple[str, ...] | None = None
    skeleton: tuple[tuple[int, int], ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.extra, "id": self.id, "name": self.name}
        if self.supercategory is not None:
            out["supercategory"] = self.supercategory
        if self.keypoints is not None:
            out["keypoints"] = list(self.keypoints)
        if self.skeleton is not None:
            out["skeleton"] = [list(edge) for edge in self.skeleton]
        return out


def categories_from_names(names: Iterable[str]) -> tuple[CocoCategory, ...]:
    """Categories for class indexes 0..n-1, with COCO ids 1..n."""
    return tuple(CocoCategory(i + 1, name) for i, name in enumerate(names))


def class_map(categories: Iterable[CocoCategory]) -> dict[int, int]:
    """COCO category id → class index: the category's place when sorted by id."""
    return {c.id: i for i, c in enumerate(sorted(categories, key=lambda c: c.id))}


def class_names(categories: Iterable[CocoCategory]) -> dict[int, str]:
    """Class index → name, under the index ``class_map`` gives each category (its
    place by id, whatever order the file lists them in)."""
    return {i: c.name for i, c in enumerate(sorted(categories, key=lambda c: c.id))}


@dataclass
class CocoImport:
    """What a COCO dict became. ``top`` holds the top-level keys that are not
    images, annotations or categories (info, licenses…) for export to put back."""

    documents: dict[str, LabelDocument]  # by image file_name, in the images' order
    categories: tuple[CocoCategory, ...]  # in the file's order
    class_map: dict[int, int]  # COCO category id → class index
    problems: list[LabelError]
    top: dict[str, Any] = field(default_factory=dict)

    @property
    def keypoint_names(self) -> dict[int, tuple[str, ...]]:
        return {c.id: c.keypoints for c in self.categories if c.keypoints is not None}

    @property
    def skeleton(self) -> dict[int, tuple[tuple[int, int], ...]]:
        return {c.id: c.skeleton for c in self.categories if c.skeleton is not None}

    def names(self) -> list[str]:
        """Category names by class index."""
        return [c.name for c in sorted(self.categories, key=lambda c: c.id)]


# -- JSON kept in attributes -------------------------------------------------------


def dumps(value: Any) -> str:
    """Canonical JSON text; floats are written with repr, so loads() gives them back."""
    return canonical_json(value).decode("utf-8")


def loads(text: Any) -> Any:
    """The value kept as JSON text, or None when there is none or it is not JSON."""
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def attribute(obj: LabelObject, name: str) -> Any:
    return next((v for k, v in obj.attributes if k == name), None)


# -- numbers and geometry ----------------------------------------------------------


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def is_finite(v: Any) -> bool:
    return is_number(v) and math.isfinite(v)


def is_id(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def norm_box(bbox: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    """COCO [x, y, w, h] in pixels → [cx, cy, w, h] in 0..1. Export recomputes this
    from a kept bbox to tell whether the object is still the one imported."""
    x, y, w, h = bbox
    return ((x + w / 2) / width, (y + h / 2) / height, w / width, h / height)


def norm_ring(flat: Sequence[float], width: int, height: int) -> tuple[tuple[float, ...], ...]:
    return tuple((flat[i] / width, flat[i + 1] / height) for i in range(0, len(flat), 2))


def norm_keypoints(flat: Sequence[float], width: int, height: int) -> tuple[tuple[float, ...], ...]:
    return tuple(
        (flat[i] / width, flat[i + 1] / height, int(flat[i + 2])) for i in range(0, len(flat), 3)
    )


def shoelace(flat: Sequence[float]) -> float:
    """Area of a flat [x1, y1, x2, y2, …] ring."""
    n = len(flat) // 2
    twice = sum(
        flat[2 * i] * flat[2 * ((i + 1) % n) + 1] - flat[2 * ((i + 1) % n)] * flat[2 * i + 1]
        for i in range(n)
    )
    return abs(twice) / 2


def rle_counts(counts: list[int] | str) -> list[int] | None:
    """Run lengths of an uncompressed or compressed (pycocotools string) RLE,
    or None when a compressed string does not decode."""
    if isinstance(counts, list):
        return counts
    out: list[int] = []
    p = 0
    while p < len(counts):
        x = k = 0
        more = True
        while more:
            if p >= len(counts):
                return None
            c = ord(counts[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(out) > 2:
            x += out[-2]
        out.append(x)
    return out
