"""Which measurement a figure is: who measured it, on which split of which dataset
version, over how many images.

A model version's ``metrics`` name theirs under :data:`KEY`. Trained weights carry
their training plugin's own validation (``ultralytics``: its figure on the val
split); an export carries the appliance's COCO evaluation (``coco``) from its
parity measurement, on the test split by default; a training script's figures
are what the script reported (``script``: split not known). These differ even on
the same weights, so a figure is never shown without its measurement's words:
``val · ultralytics · 7 images · shapes@1`` vs ``test · coco · 10 images · shapes@1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from appliance.domain.wording import plural

KEY = "measurement"
COCO = "coco"  # the appliance's evaluation (appliance.domain.evaluation)
SCRIPT = "script"  # what a training script reported in its metrics.json


def measurement(
    by: str,
    *,
    split: str | None,
    images: int | None,
    dataset: str | None,
    version: int | None,
    objects: int | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "by": by,
        "split": split,
        "images": images,
        "dataset": dataset,
        "version": version,
    }
    if objects is not None:
        out["objects"] = objects
    return out


def describe(m: Mapping[str, Any] | None) -> str:
    """``val · ultralytics · 7 images · shapes@1``; says so when none is recorded."""
    if not m:
        return "measurement not recorded"
    parts = [m.get("split") or "split not known", str(m.get("by") or "measured by ?")]
    if m.get("images") is not None:
        parts.append(plural(int(m["images"]), "image"))
    if m.get("dataset"):
        parts.append(f"{m['dataset']}@{m.get('version')}")
    return " · ".join(parts)


def of(metrics: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The measurement a version's metrics were recorded with (``None``: not recorded)."""
    found = (metrics or {}).get(KEY)
    return found if isinstance(found, Mapping) else None


def same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Whether two figures are comparable: the same measurer on the same data."""
    keys = ("by", "split", "dataset", "version", "images")
    return a is not None and b is not None and all(a.get(k) == b.get(k) for k in keys)
