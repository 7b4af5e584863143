"""Dataset statistics and label-quality warnings, computed from label documents."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from appliance.domain.labels.diff import iou
from appliance.domain.labels.document import LabelDocument

#: Box-area bins, as a fraction of the image side (sqrt(w*h)): COCO-like small/medium/large.
SIZE_BINS = (0.02, 0.05, 0.1, 0.2, 0.4, 1.0)
#: Aspect (w/h) bins on a log scale.
ASPECT_BINS = (0.25, 0.5, 1.0, 2.0, 4.0, math.inf)
DUPLICATE_IOU = 0.95
EPS = 1e-9


@dataclass(frozen=True)
class LabelWarning:
    filename: str | None  # None: the version as a whole (a missing class)
    index: int | None
    kind: str  # missing-class | outside-image | zero-area | duplicate
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "object": self.index,
            "kind": self.kind,
            "detail": self.detail,
        }


def warnings_for(filename: str, doc: LabelDocument) -> list[LabelWarning]:
    out: list[LabelWarning] = []
    for i, o in enumerate(doc.objects):
        cx, cy, w, h = o.bbox()
        if w * h <= 0:
            out.append(LabelWarning(filename, i, "zero-area", "the object has no area"))
        if (
            cx - w / 2 < -1e-9
            or cy - h / 2 < -1e-9
            or cx + w / 2 > 1 + 1e-9
            or cy + h / 2 > 1 + 1e-9
        ):
            out.append(
                LabelWarning(filename, i, "outside-image", "the box reaches past the image edge")
            )
    for i, a in enumerate(doc.objects):
        for j in range(i + 1, len(doc.objects)):
            b = doc.objects[j]
            if a.cls == b.cls and iou(a, b) >= DUPLICATE_IOU:
                out.append(LabelWarning(filename, j, "duplicate", f"repeats object {i}"))
    return out


@dataclass
class DatasetStats:
    images: int = 0
    unlabelled: int = 0
    objects: int = 0
    per_class: Counter[int] = field(default_factory=Counter)
    per_class_split: Counter[tuple[int, str]] = field(default_factory=Counter)
    images_per_split: Counter[str] = field(default_factory=Counter)
    size_hist: list[int] = field(default_factory=lambda: [0] * len(SIZE_BINS))
    aspect_hist: list[int] = field(default_factory=lambda: [0] * len(ASPECT_BINS))
    warnings: list[LabelWarning] = field(default_factory=list)

    def missing(self, classes: Mapping[int, str]) -> list[LabelWarning]:
        """A warning for each of ``classes`` (id → name) without a single object:
        the worst a version can have, since a model trained on it never learns the
        class and an evaluation on it cannot measure it."""
        return [
            LabelWarning(
                None,
                None,
                "missing-class",
                f"class {name!r} (id {c}) has no objects in this version: a model"
                " trained on it cannot learn it, nor can an evaluation measure it",
            )
            for c, name in sorted(classes.items())
            if self.per_class[c] == 0
        ]

    def as_dict(
        self, names: list[str] | None = None, classes: Mapping[int, str] | None = None
    ) -> dict[str, object]:
        """``classes``: the classes the version should have (the schema's usable
        ones); each is listed even with no objects, and those without any come
        first among the warnings."""

        def name(c: int) -> str:
            if classes and c in classes:
                return classes[c]
            return names[c] if names and c < len(names) else str(c)

        missing = self.missing(classes or {})
        return {
            "images": self.images,
            "unlabelled_images": self.unlabelled,
            "objects": self.objects,
            "images_per_split": dict(self.images_per_split),
            "per_class": [
                {
                    "class": c,
                    "name": name(c),
                    "objects": n,
                    "per_split": {s: k for (cc, s), k in self.per_class_split.items() if cc == c},
                }
                for c, n in sorted({**dict.fromkeys(classes or {}, 0), **self.per_class}.items())
            ],
            "box_size_histogram": {"bins": list(SIZE_BINS), "counts": self.size_hist},
            "aspect_histogram": {
                "bins": [b if math.isfinite(b) else None for b in ASPECT_BINS],
                "counts": self.aspect_hist,
            },
            "warnings": [w.as_dict() for w in [*missing, *self.warnings]],
        }


def dataset_stats(rows: Iterable[tuple[str, str, LabelDocument | None]]) -> DatasetStats:
    """``rows``: (filename, split, its labels or None) for every image."""
    st = DatasetStats()
    for filename, split, doc in rows:
        st.images += 1
        st.images_per_split[split] += 1
        if doc is None or not doc.objects:
            st.unlabelled += 1
            continue
        st.warnings += warnings_for(filename, doc)
        for o in doc.objects:
            st.objects += 1
            st.per_class[o.cls] += 1
            st.per_class_split[(o.cls, split)] += 1
            _, _, w, h = o.bbox()
            st.size_hist[_bin(math.sqrt(max(w * h, 0.0)), SIZE_BINS)] += 1
            if h > 0:
                st.aspect_hist[_bin(w / h, ASPECT_BINS)] += 1
    return st


def _bin(value: float, edges: tuple[float, ...]) -> int:
    for i, edge in enumerate(edges):
        if value <= edge:
            return i
    return len(edges) - 1
