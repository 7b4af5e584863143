"""The hyperparameters of a catalog training run, as a JSON Schema (draft 2020-12).

The console renders this schema as a form and the API validates requests against
it (validation uses the ``jsonschema`` library, so it lives in
:mod:`appliance.training.spec`, outside the pure domain). Defaults follow
Ultralytics' own, except ``workers`` (2, not 8: an appliance shares its cores)
and ``deterministic``. ``batch`` is a fixed number: Ultralytics' auto-batch (-1)
would make the job's memory impossible to request up front.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

SCHEMA_ID = "https://ahoy-perception.local/schemas/training/hyperparameters-v1.json"

OPTIMIZERS = ("auto", "SGD", "Adam", "Adamax", "AdamW", "NAdam", "RAdam", "RMSprop", "MuSGD")
DEVICES = ("auto", "cpu", "cuda")


def _int(default: int, lo: int, hi: int, title: str, text: str) -> dict[str, Any]:
    return {
        "type": "integer",
        "default": default,
        "minimum": lo,
        "maximum": hi,
        "title": title,
        "description": text,
    }


def _num(default: float, lo: float, hi: float, title: str, text: str) -> dict[str, Any]:
    return {
        "type": "number",
        "default": default,
        "minimum": lo,
        "maximum": hi,
        "title": title,
        "description": text,
    }


def _bool(default: bool, title: str, text: str) -> dict[str, Any]:
    return {"type": "boolean", "default": default, "title": title, "description": text}


_PROPERTIES: dict[str, dict[str, Any]] = {
    "epochs": _int(100, 1, 10_000, "Epochs", "Passes over the training split."),
    "imgsz": {
        **_int(640, 32, 4096, "Image size", "Training and validation image size in pixels."),
        "multipleOf": 32,
    },
    "batch": _int(16, 1, 1024, "Batch size", "Images per optimiser step."),
    "lr0": {
        **_num(0.01, 0.0, 1.0, "Initial learning rate", "Ignored when the optimizer is auto."),
        "exclusiveMinimum": 0.0,
    },
    "lrf": {
        **_num(0.01, 0.0, 1.0, "Final LR fraction", "Final learning rate as a fraction of lr0."),
        "exclusiveMinimum": 0.0,
    },
    "momentum": _num(0.937, 0.0, 1.0, "Momentum", "SGD momentum or Adam beta1."),
    "weight_decay": _num(0.0005, 0.0, 0.1, "Weight decay", "L2 penalty on the weights."),
    "warmup_epochs": _num(3.0, 0.0, 100.0, "Warm-up epochs", "Epochs of learning rate warm-up."),
    "optimizer": {
        "type": "string",
        "enum": list(OPTIMIZERS),
        "default": "auto",
        "title": "Optimizer",
        "description": "auto picks AdamW for short runs and MuSGD for long ones.",
    },
    "patience": _int(
        100, 0, 10_000, "Patience", "Epochs without improvement before early stop (0: never)."
    ),
    "seed": _int(0, 0, 2**31 - 1, "Seed", "Seed for every random number generator."),
    "device": {
        "type": "string",
        "enum": list(DEVICES),
        "default": "auto",
        "title": "Device",
        "description": "cuda needs a GPU on the box; auto uses one when the governor grants it.",
    },
    "workers": _int(
        2, 0, 32, "Data loader workers", "Processes decoding images (0: in the trainer)."
    ),
    "mosaic": _num(1.0, 0.0, 1.0, "Mosaic", "Probability of mosaic augmentation."),
    "fliplr": _num(0.5, 0.0, 1.0, "Horizontal flip", "Probability of a left-right flip."),
    "hsv_h": _num(0.015, 0.0, 1.0, "Hue jitter", "Hue augmentation (fraction)."),
    "hsv_s": _num(0.7, 0.0, 1.0, "Saturation jitter", "Saturation augmentation (fraction)."),
    "hsv_v": _num(0.4, 0.0, 1.0, "Value jitter", "Brightness augmentation (fraction)."),
    "close_mosaic": _int(10, 0, 10_000, "Close mosaic", "Final epochs trained without mosaic."),
    "cache": _bool(False, "Cache images", "Keep decoded images in RAM (needs more memory)."),
    "deterministic": _bool(
        True, "Deterministic", "Deterministic algorithms: same seed, same result (can be slower)."
    ),
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "Training hyperparameters",
    "type": "object",
    "additionalProperties": False,
    "properties": _PROPERTIES,
}


def schema() -> dict[str, Any]:
    """A copy of the schema, safe for callers to modify (e.g. to serialise)."""
    return copy.deepcopy(SCHEMA)


def defaults() -> dict[str, Any]:
    """Every hyperparameter at its default value."""
    return {name: prop["default"] for name, prop in _PROPERTIES.items()}


def with_defaults(given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` over the defaults (not validated: see ``appliance.training.spec``)."""
    return {**defaults(), **given}
