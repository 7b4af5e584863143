"""A file's annotations as one canonical, hashable document.

Coordinates are normalized to 0..1 of the image (x right, y down), as YOLO
writes them, so a document does not depend on knowing the image size; when the
size is known it is kept (COCO needs it to go back to pixels).

    {"format": "ahoy.labels/1", "size": [w, h] | null, "tags": [...],
     "objects": [
       {"type": "box", "class": 3, "box": [cx, cy, w, h]},
       {"type": "polygon", "class": 1, "points": [[x, y], ...]},
       {"type": "keypoints", "class": 0, "box": [cx, cy, w, h],
        "points": [[x, y, v], ...]}          # v: 0 absent, 1 hidden, 2 visible
     ]}

Objects may also carry ``id`` (stable across edits, for annotation-level diffs)
and ``attributes`` ({name: str|int|float|bool}). ``by``/``at`` say who made the
document and when. The hash is the sha256 of the canonical JSON, so equal labels
hash equal wherever they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.domain.canonical import canonical_json, sha256_hex

FORMAT = "ahoy.labels/1"
OBJECT_TYPES = ("box", "polygon", "keypoints")

Scalar = str | int | float | bool


class LabelError(ValueError):
    """One problem with a label document or a label file, with where it is."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True, slots=True)
class LabelObject:
    type: str
    cls: int
    box: tuple[float, float, float, float] | None = None  # cx, cy, w, h
    points: tuple[tuple[float, ...], ...] = ()  # (x, y) or (x, y, v)
    id: str | None = None
    attributes: tuple[tuple[str, Scalar], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "class": self.cls}
        if self.box is not None:
            out["box"] = list(self.box)
        if self.points:
            out["points"] = [list(p) for p in self.points]
        if self.id is not None:
            out["id"] = self.id
        if self.attributes:
            out["attributes"] = dict(self.attributes)
        return out

    def bbox(self) -> tuple[float, float, float, float]:
        """cx, cy, w, h: the box, or the extent of the points."""
        if self.box is not None:
            return self.box
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        return ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)


@dataclass(frozen=True, slots=True)
class LabelDocument:
    objects: tuple[LabelObject, ...] = ()
    size: tuple[int, int] | None = None
    tags: tuple[str, ...] = ()
    by: str | None = None
    at: float | None = None
    extra: tuple[tuple[str, Scalar], ...] = field(default=())  # file-level attributes

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "size": list(self.size) if self.size else None,
            "tags": list(self.tags),
            "objects": [o.as_dict() for o in self.objects],
        }
        if self.by is not None:
            out["by"] = self.by
        if self.at is not None:
            out["at"] = self.at
        if self.extra:
            out["attributes"] = dict(self.extra)
        return out

    def to_bytes(self) -> bytes:
        return canonical_json(self.as_dict())

    @property
    def sha256(self) -> str:
        return sha256_hex(self.to_bytes())

    def same_labels(self, other: LabelDocument) -> bool:
        """Equal apart from ``by``/``at`` (who saved it and when): saving one over
        the other would change nothing a person labelled."""
        return (self.objects, self.size, self.tags, self.extra) == (
            other.objects,
            other.size,
            other.tags,
            other.extra,
        )


def parse_document(data: Any, where: str = "labels") -> LabelDocument:
    """A document from its JSON form; raises LabelError naming the first problem."""
    if not isinstance(data, dict):
        raise LabelError(where, "a label document is a JSON object")
    if data.get("format", FORMAT) != FORMAT:
        raise LabelError(where, f"format {data.get('format')!r} is not {FORMAT!r}")
    size = data.get("size")
    if size is not None:
        if not (isinstance(size, list) and len(size) == 2 and all(_pos_int(v) for v in size)):
            raise LabelError(where, "size is [width, height] in pixels, both positive")
        size = (int(size[0]), int(size[1]))
    tags = data.get("tags", [])
    if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise LabelError(where, "tags is a list of strings")
    raw = data.get("objects", [])
    if not isinstance(raw, list):
        raise LabelError(where, "objects is a list")
    objects = tuple(parse_object(o, f"{where} object {i}") for i, o in enumerate(raw))
    return LabelDocument(
        objects,
        size,
        tuple(tags),
        data.get("by"),
        data.get("at"),
        _attributes(data.get("attributes", {}), where),
    )


def parse_object(data: Any, where: str) -> LabelObject:
    if not isinstance(data, dict):
        raise LabelError(where, "an object is a JSON object")
    kind = data.get("type")
    if kind not in OBJECT_TYPES:
        raise LabelError(where, f"type {kind!r} is not one of {OBJECT_TYPES}")
    cls = data.get("class")
    if not isinstance(cls, int) or isinstance(cls, bool) or cls < 0:
        raise LabelError(where, f"class {cls!r} is not a class id (an integer >= 0)")
    box = None
    if kind in ("box", "keypoints"):
        box = _box(data.get("box"), where)
    points: tuple[tuple[float, ...], ...] = ()
    if kind == "polygon":
        points = _points(data.get("points"), 2, where)
        if len(points) < 3:
            raise LabelError(where, "a polygon needs at least 3 points")
    elif kind == "keypoints":
        points = _points(data.get("points"), 3, where)
    ident = data.get("id")
    if ident is not None and not isinstance(ident, str):
        raise LabelError(where, "id is a string")
    return LabelObject(
        kind, cls, box, points, ident, _attributes(data.get("attributes", {}), where)
    )


def _pos_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _unit(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0


def _box(raw: Any, where: str) -> tuple[float, float, float, float]:
    if not (isinstance(raw, list) and len(raw) == 4 and all(_unit(v) for v in raw)):
        raise LabelError(where, "box is [cx, cy, w, h], each normalized to 0..1")
    cx, cy, w, h = (float(v) for v in raw)
    if w <= 0 or h <= 0:
        raise LabelError(where, "box has zero width or height")
    return (cx, cy, w, h)


def _points(raw: Any, arity: int, where: str) -> tuple[tuple[float, ...], ...]:
    if not isinstance(raw, list):
        raise LabelError(where, "points is a list")
    out = []
    for p in raw:
        ok = isinstance(p, list) and len(p) == arity and all(_unit(v) for v in p[:2])
        if ok and arity == 3:
            ok = p[2] in (0, 1, 2)
        if not ok:
            shape = "[x, y]" if arity == 2 else "[x, y, v] with v 0, 1 or 2"
            raise LabelError(where, f"each point is {shape}, x and y normalized to 0..1")
        out.append(tuple(float(v) for v in p[:2]) + ((int(p[2]),) if arity == 3 else ()))
    return tuple(out)


def _attributes(raw: Any, where: str) -> tuple[tuple[str, Scalar], ...]:
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in raw.items()
    ):
        raise LabelError(where, "attributes map names to strings, numbers or booleans")
    return tuple(sorted(raw.items()))
