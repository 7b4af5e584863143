"""YOLO label text (one ``.txt`` per image) to and from label documents.

Tasks: ``detect`` (``c cx cy w h``), ``segment`` (``c x1 y1 x2 y2 ...``), ``pose``
(``c cx cy w h`` then ``x y [v]`` per keypoint, as ``kpt_shape`` says). Numbers
are written with ``repr``: the shortest text that parses back to the same float,
so a file read and written again holds the same values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from appliance.domain.labels.document import LabelDocument, LabelError, LabelObject

TASKS = ("detect", "segment", "pose")


@dataclass(frozen=True, slots=True)
class YoloSpec:
    task: str = "detect"
    classes: int = 80  # class ids run 0..classes-1
    kpt_shape: tuple[int, int] | None = None  # (keypoints, 2 or 3) for pose
    ids: frozenset[int] | None = None  # the ids data.yaml names, when it leaves gaps


#: The name an export gives a slot that has no class (see ``LabelSchema.names``).
PLACEHOLDER = "reserved_{}"


def yolo_names(raw: object) -> dict[int, str]:
    """data.yaml's ``names`` → class id → name, ids kept as written.

    A list numbers its names 0..n-1; a map keeps its keys, gaps included
    (``{0: person, 5: bus, 15: cat}``: bus stays 5 and cat 15). A ``reserved_<id>``
    entry (what an export writes for a slot without a class) is a gap, not a class."""
    if isinstance(raw, list):
        pairs = list(enumerate(raw))
    elif isinstance(raw, dict):
        pairs = []
        for key, name in raw.items():
            if isinstance(key, str) and key.strip().isdigit():
                key = int(key)
            if not isinstance(key, int) or isinstance(key, bool) or key < 0:
                raise LabelError("data.yaml", f"names key {key!r} is not a class id (0, 1, ...)")
            pairs.append((key, name))
    else:
        raise LabelError("data.yaml", "it needs `names`: a list or an {id: name} map")
    names: dict[int, str] = {}
    for i, name in pairs:
        if (
            isinstance(name, bool)
            or not isinstance(name, str | int | float)
            or not str(name).strip()
        ):
            raise LabelError("data.yaml", f"names {i}: {name!r} is not a class name")
        if str(name) != PLACEHOLDER.format(i):
            names[i] = str(name)
    if not names:
        raise LabelError("data.yaml", "it needs `names`: a list or an {id: name} map")
    return names


def describe_ids(ids: frozenset[int] | set[int]) -> str:
    """``0-3, 5, 15, 41``: ids as runs, for messages."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def parse_yolo(text: str, spec: YoloSpec, where: str) -> tuple[LabelDocument, list[LabelError]]:
    """The document, and every problem found (each naming the file and line).
    A document is only meaningful when the problem list is empty."""
    objects: list[LabelObject] = []
    problems: list[LabelError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        at = f"{where}:{number}"
        try:
            objects.append(_parse_line(fields, spec, at))
        except LabelError as exc:
            problems.append(exc)
    return LabelDocument(tuple(objects)), problems


def _parse_line(fields: list[str], spec: YoloSpec, at: str) -> LabelObject:
    try:
        cls = int(fields[0])
    except ValueError:
        raise LabelError(at, f"class {fields[0]!r} is not an integer") from None
    if spec.ids is not None and cls not in spec.ids:
        raise LabelError(
            at, f"class {cls} is not one of data.yaml's names ({describe_ids(spec.ids)})"
        )
    if not 0 <= cls < spec.classes:
        raise LabelError(at, f"class {cls} is outside 0..{spec.classes - 1} (data.yaml names)")
    try:
        values = [float(v) for v in fields[1:]]
    except ValueError:
        raise LabelError(at, "a coordinate is not a number") from None
    if any(not math.isfinite(v) for v in values):
        raise LabelError(at, "a coordinate is not a finite number")
    if spec.task == "segment" and len(values) != 4:
        return _polygon(cls, values, at)
    if spec.task == "pose":
        return _pose(cls, values, spec, at)
    if len(values) != 4:
        raise LabelError(at, f"a box line has 5 fields (class cx cy w h), not {len(fields)}")
    return LabelObject("box", cls, _box(values, at))


def _box(values: list[float], at: str) -> tuple[float, float, float, float]:
    if any(not 0.0 <= v <= 1.0 for v in values):
        raise LabelError(at, "box values must be normalized to 0..1")
    cx, cy, w, h = values
    if w <= 0 or h <= 0:
        raise LabelError(at, "the box has zero width or height")
    return (cx, cy, w, h)


def _polygon(cls: int, values: list[float], at: str) -> LabelObject:
    if len(values) % 2 or len(values) < 6:
        raise LabelError(at, "a polygon line is a class and at least 3 x y pairs")
    if any(not 0.0 <= v <= 1.0 for v in values):
        raise LabelError(at, "polygon points must be normalized to 0..1")
    points = tuple((values[i], values[i + 1]) for i in range(0, len(values), 2))
    return LabelObject("polygon", cls, points=points)


def _pose(cls: int, values: list[float], spec: YoloSpec, at: str) -> LabelObject:
    count, dims = spec.kpt_shape or (17, 3)
    if len(values) != 4 + count * dims:
        raise LabelError(
            at, f"a pose line has {5 + count * dims} fields (kpt_shape {count}x{dims})"
        )
    box = _box(values[:4], at)
    points = []
    for i in range(count):
        x, y, *rest = values[4 + i * dims : 4 + (i + 1) * dims]
        v = int(rest[0]) if rest else 2
        if rest and rest[0] not in (0.0, 1.0, 2.0):
            raise LabelError(at, f"keypoint {i} visibility {rest[0]!r} is not 0, 1 or 2")
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise LabelError(at, f"keypoint {i} is outside 0..1")
        points.append((x, y, v))
    return LabelObject("keypoints", cls, box, tuple(points))


def format_yolo(doc: LabelDocument, spec: YoloSpec) -> str:
    """One line per object the task can hold (see ``dropped_objects``):
    detect writes every object's box; segment writes polygons as polygons and
    the rest as boxes; pose writes keypoint objects only."""
    lines = []
    for obj in doc.objects:
        if spec.task == "pose":
            if obj.type != "keypoints" or obj.box is None:
                continue
            dims = (spec.kpt_shape or (17, 3))[1]
            kp = [v for p in obj.points for v in (*p[:2], *(p[2:3] if dims == 3 else ()))]
            values: list[float | int] = [*obj.box, *kp]
        elif spec.task == "segment" and obj.type == "polygon":
            values = [v for p in obj.points for v in p[:2]]
        else:
            values = list(obj.bbox())
        lines.append(" ".join([str(obj.cls), *(_num(v) for v in values)]))
    return "\n".join(lines) + ("\n" if lines else "")


def _num(v: float | int) -> str:
    return str(v) if isinstance(v, int) else repr(v)


def dropped_objects(doc: LabelDocument, spec: YoloSpec) -> int:
    """How many objects ``format_yolo`` leaves out for this task."""
    if spec.task != "pose":
        return 0
    return sum(1 for o in doc.objects if o.type != "keypoints")
