"""The parity gate: an export against its source weights, both measured the same
way (COCO mAP50-95) on the same images, and what that allows.

One sign everywhere: ``delta`` = export − source, in mAP50-95 points (1.0 = one
point); negative means the export lost accuracy. A parity measured on fewer
images or objects than the rules ask for decides nothing: it is "not
measurable", and only an admin who says so promotes such an export.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PASSED, FAILED, UNMEASURABLE = "passed", "failed", "not measurable"


@dataclass(frozen=True, slots=True)
class ParityRules:
    tolerance: float  # points an export may lose
    min_images: int
    min_objects: int

    def need(self) -> str:
        return f"at least {self.min_images} images and {self.min_objects} objects"


def points(v: float | None) -> float:
    return 100.0 * (v or 0.0)


def measure(
    source: Mapping[str, Any], export: Mapping[str, Any], rules: ParityRules, where: str
) -> dict[str, Any]:
    """The parity record of two evaluation summaries of the same images (``images``,
    ``objects``, ``map50_95``, ``per_class``), measured ``where`` (the data)."""
    delta = points(export.get("map50_95")) - points(source.get("map50_95"))
    by_class = {c["class_id"]: c for c in export.get("per_class", [])}
    classes = []
    for c in source.get("per_class", []):
        if c.get("ap50_95") is None:
            continue
        other = by_class.get(c["class_id"], {})
        classes.append(
            {
                "class_id": c["class_id"],
                "name": c["name"],
                "num_gt": c.get("num_gt"),
                "source_ap50_95": c["ap50_95"],
                "export_ap50_95": other.get("ap50_95"),
                "delta_points": round(points(other.get("ap50_95")) - points(c["ap50_95"]), 3),
            }
        )
    record = {
        "source_map50_95": source.get("map50_95"),
        "export_map50_95": export.get("map50_95"),
        "delta_points": round(delta, 3),
        "tolerance_points": rules.tolerance,
        "images": int(export.get("images") or 0),
        "objects": int(export.get("objects") or 0),
        "min_images": rules.min_images,
        "min_objects": rules.min_objects,
        "where": where,
        "per_class": classes,
    }
    state = verdict(record, rules)
    return {
        **record,
        "verdict": state,
        "measurable": state != UNMEASURABLE,
        "passed": _passed(state),
    }


def delta_of(parity: Mapping[str, Any]) -> float:
    """Export − source in points (records from before ``delta_points`` kept the
    opposite, ``drop_points``)."""
    if parity.get("delta_points") is not None:
        return float(parity["delta_points"])
    return -float(parity.get("drop_points") or 0.0)


def verdict(parity: Mapping[str, Any], rules: ParityRules) -> str:
    """passed, failed or not measurable, under ``rules`` (today's settings: a
    record is judged again when it is used)."""
    images, objects = parity.get("images"), parity.get("objects")
    if images is None or objects is None:  # recorded before the counts were
        return UNMEASURABLE
    if images < rules.min_images or objects < rules.min_objects:
        return UNMEASURABLE
    return PASSED if delta_of(parity) >= -rules.tolerance else FAILED


def _passed(state: str) -> bool | None:
    return None if state == UNMEASURABLE else state == PASSED


def counts(parity: Mapping[str, Any]) -> str:
    images, objects = parity.get("images"), parity.get("objects")
    if images is None or objects is None:
        return "image and object counts not recorded"
    return f"{images} images, {objects} objects"


def describe(parity: Mapping[str, Any], rules: ParityRules | None = None) -> str:
    """One line: ``parity failed: -65.91 pts (export − source, 0.700 → 0.041) on
    shapes@1 test, 120 images, 400 objects; tolerance 1``."""
    state = parity.get("verdict") if rules is None else verdict(parity, rules)
    state = state or (PASSED if parity.get("passed") else FAILED)
    tolerance = parity.get("tolerance_points") if rules is None else rules.tolerance
    change = (
        f"{delta_of(parity):+.2f} pts (export − source, mAP50-95"
        f" {_score(parity.get('source_map50_95'))} → {_score(parity.get('export_map50_95'))})"
    )
    on = f" on {parity['where']}" if parity.get("where") else ""
    line = f"parity {state}: {change}{on}, {counts(parity)}"
    if state == UNMEASURABLE:
        need = (rules or _recorded(parity)).need()
        return f"{line}; deciding needs {need}"
    return f"{line}; tolerance {tolerance:g} pts"


def _recorded(parity: Mapping[str, Any]) -> ParityRules:
    """The rules a record was measured under."""
    return ParityRules(
        float(parity.get("tolerance_points") or 0.0),
        int(parity.get("min_images") or 0),
        int(parity.get("min_objects") or 0),
    )


def _score(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"
