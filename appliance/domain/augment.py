"""Offline augmentation: the recipe, which files it expands, and how labels follow.

An augmentation expands the TRAIN split of a frozen version only: every labelled
train image gains ``copies`` transformed copies (default 7, so 8× with the
original); val and test are carried over untouched, so no transformed view of an
evaluation image can leak into training. Copies are pinned to ``train`` (their
own bytes would hash anywhere).

Geometry travels as points: a box as its four corners, a polygon as its vertices,
keypoints as themselves. After the image transform the points come back and the
objects are rebuilt: a box becomes the extent of its moved corners, clipped to the
image, and is dropped when less than ``min_visibility`` of it stays inside.

The recipe is a fixed vocabulary (geometric + colour), not arbitrary code; its
hash (with the seed) names what made a derived version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from appliance.domain.canonical import canonical_json
from appliance.domain.labels.document import LabelDocument, LabelObject
from appliance.domain.manifest import ManifestRow
from appliance.errors import InvalidInput

TRAIN = "train"
MAX_COPIES = 31

#: name: (default, low, high). Probabilities are 0..1; ranges are ± limits.
RECIPE_FIELDS: dict[str, tuple[float, float, float]] = {
    "hflip": (0.5, 0.0, 1.0),  # probability of a horizontal flip
    "vflip": (0.0, 0.0, 1.0),
    "rotate": (10.0, 0.0, 180.0),  # degrees, ±
    "scale": (0.2, 0.0, 0.9),  # ± fraction
    "translate": (0.1, 0.0, 0.5),  # ± fraction of the side
    "shear": (0.0, 0.0, 45.0),  # degrees, ±
    "brightness": (0.2, 0.0, 1.0),  # ± fraction
    "contrast": (0.2, 0.0, 1.0),
    "saturation": (0.3, 0.0, 1.0),
    "hue": (0.02, 0.0, 0.5),
    "blur": (0.1, 0.0, 1.0),  # probability of a slight blur
    "noise": (0.1, 0.0, 1.0),  # probability of gaussian noise
    "min_visibility": (0.3, 0.0, 1.0),  # share of a box that must stay in the image
}


@dataclass(frozen=True, slots=True)
class Recipe:
    copies: int
    seed: int
    params: tuple[tuple[str, float], ...]

    def get(self, name: str) -> float:
        return dict(self.params)[name]

    def as_dict(self) -> dict[str, Any]:
        return {"copies": self.copies, "seed": self.seed, **dict(self.params)}

    @property
    def sha256(self) -> str:
        return hashlib.sha256(canonical_json(self.as_dict())).hexdigest()

    def copy_seed(self, content_sha256: str, index: int) -> int:
        """The seed of one copy: the same recipe on the same bytes makes the same copy."""
        digest = hashlib.sha256(f"{self.seed}:{content_sha256}:{index}".encode()).digest()
        return int.from_bytes(digest[:4], "big")


def parse_recipe(data: dict[str, Any] | None) -> Recipe:
    """Defaults filled in; every bad field named at once."""
    data = dict(data or {})
    problems: list[str] = []
    copies = data.pop("copies", 7)
    if not isinstance(copies, int) or isinstance(copies, bool) or not 1 <= copies <= MAX_COPIES:
        problems.append(f"copies must be a whole number from 1 to {MAX_COPIES}")
    seed = data.pop("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        problems.append("seed must be a whole number ≥ 0")
    params: list[tuple[str, float]] = []
    for name, (default, low, high) in RECIPE_FIELDS.items():
        value = data.pop(name, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"{name} must be a number")
        elif not low <= value <= high:
            problems.append(f"{name} must be between {low:g} and {high:g}")
        else:
            params.append((name, float(value)))
    problems += [f"unknown recipe field {name!r}" for name in sorted(data)]
    if problems:
        raise InvalidInput(
            "; ".join(problems), hint=f"recipe fields: copies, seed, {', '.join(RECIPE_FIELDS)}"
        )
    return Recipe(copies, seed, tuple(params))  # type: ignore[arg-type]


def copy_name(filename: str, index: int) -> str:
    """``a/b/cat.jpg`` → ``a/b/cat.aug3.jpg``."""
    folder, _, base = filename.rpartition("/")
    stem, dot, ext = base.rpartition(".")
    name = f"{stem}.aug{index}{dot}{ext}" if dot else f"{base}.aug{index}"
    return f"{folder}/{name}" if folder else name


@dataclass(frozen=True, slots=True)
class Planned:
    source: ManifestRow
    name: str
    index: int  # 1..copies
    seed: int


def plan(rows: Sequence[ManifestRow], recipe: Recipe) -> list[Planned]:
    """The copies to make: ``copies`` per labelled train image, named beside it."""
    taken = {r.filename for r in rows}
    out: list[Planned] = []
    for row in rows:
        if row.split != TRAIN or row.role != "image" or row.label_sha256 is None:
            continue
        for i in range(1, recipe.copies + 1):
            name = copy_name(row.filename, i)
            if name in taken:
                raise InvalidInput(
                    f"{row.filename}: its copy name {name!r} is already a file of the version",
                    hint="augment a version that is not itself augmented",
                )
            taken.add(name)
            out.append(Planned(row, name, i, recipe.copy_seed(row.sha256, i)))
    return out


# -- labels as points ---------------------------------------------------------------


def to_points(doc: LabelDocument, width: int, height: int) -> list[tuple[float, float]]:
    """Every object's geometry in pixels, in a fixed order ``from_points`` reads back."""
    points: list[tuple[float, float]] = []
    for obj in doc.objects:
        if obj.box is not None:
            cx, cy, w, h = obj.box
            x0, x1 = (cx - w / 2) * width, (cx + w / 2) * width
            y0, y1 = (cy - h / 2) * height, (cy + h / 2) * height
            points += [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        points += [(p[0] * width, p[1] * height) for p in obj.points]
    return points


def from_points(
    doc: LabelDocument,
    moved: Sequence[tuple[float, float]],
    width: int,
    height: int,
    min_visibility: float,
) -> LabelDocument:
    """The document with each object's geometry replaced by its moved points
    (sized ``width`` × ``height``); objects pushed out of the image are dropped."""
    at = 0
    objects: list[LabelObject] = []
    for obj in doc.objects:
        corners: Sequence[tuple[float, float]] = ()
        if obj.box is not None:
            corners, at = moved[at : at + 4], at + 4
        pts, at = moved[at : at + len(obj.points)], at + len(obj.points)
        kept = _rebuild(obj, corners, pts, width, height, min_visibility)
        if kept is not None:
            objects.append(kept)
    if at != len(moved):
        raise ValueError(f"{len(moved)} points came back for {at} sent")
    return replace(doc, objects=tuple(objects), size=(width, height))


def _rebuild(
    obj: LabelObject,
    corners: Sequence[tuple[float, float]],
    pts: Sequence[tuple[float, float]],
    width: int,
    height: int,
    min_visibility: float,
) -> LabelObject | None:
    box = None
    if corners:
        box = _clipped_box(corners, width, height, min_visibility)
        if box is None:
            return None
    if obj.type == "polygon":
        ring = [(_clamp(x / width), _clamp(y / height)) for x, y in pts]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        if max(xs) - min(xs) <= 0 or max(ys) - min(ys) <= 0:
            return None
        return replace(obj, points=tuple(ring))
    if obj.type == "keypoints":
        new_points = tuple(
            _keypoint(old, new, width, height) for old, new in zip(obj.points, pts, strict=True)
        )
        return replace(obj, box=box, points=new_points)
    return replace(obj, box=box)


def _keypoint(
    old: tuple[float, ...], new: tuple[float, float], width: int, height: int
) -> tuple[float, ...]:
    x, y = new[0] / width, new[1] / height
    inside = 0 <= x <= 1 and 0 <= y <= 1
    if len(old) < 3:
        return (_clamp(x), _clamp(y))
    if not inside or old[2] == 0:
        return (0.0, 0.0, 0.0)  # absent: pushed out, or never there
    return (x, y, old[2])


def _clipped_box(
    corners: Iterable[tuple[float, float]], width: int, height: int, min_visibility: float
) -> tuple[float, float, float, float] | None:
    xs, ys = zip(*corners, strict=True)
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    area = (x1 - x0) * (y1 - y0)
    cx0, cx1 = max(x0, 0.0), min(x1, float(width))
    cy0, cy1 = max(y0, 0.0), min(y1, float(height))
    if cx1 <= cx0 or cy1 <= cy0 or area <= 0:
        return None
    if (cx1 - cx0) * (cy1 - cy0) < min_visibility * area:
        return None
    w, h = (cx1 - cx0) / width, (cy1 - cy0) / height
    return ((cx0 + cx1) / 2 / width, (cy0 + cy1) / 2 / height, w, h)


def _clamp(v: float) -> float:
    return min(max(v, 0.0), 1.0)
