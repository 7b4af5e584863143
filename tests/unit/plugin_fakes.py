"""Plugins that are wrong in one way each, for the discovery tests (entry points
built in the test point here)."""

from __future__ import annotations

import dataclasses
from typing import Any

from appliance.plugins.contract import Manifest, ModelInfo
from tests.plugins.ahoy_test_plugin import SCHEMA, TinyPlugin

GOOD = TinyPlugin()


def _with(**changes: Any) -> TinyPlugin:
    plugin = TinyPlugin()
    plugin.manifest = dataclasses.replace(TinyPlugin.manifest, **changes)  # type: ignore[misc]
    return plugin


def _models(*ids: str, task: str = "detect") -> tuple[ModelInfo, ...]:
    return tuple(ModelInfo(i, task) for i in ids)


NOT_A_PLUGIN = object()
BAD_SCHEMA = _with(
    hyperparameters={"type": "object", "properties": {"x": {"type": "integer", "minimum": "0"}}}
)
NOT_AN_OBJECT = _with(hyperparameters={"type": "array"})
BAD_DEFAULT = _with(
    hyperparameters={**SCHEMA, "properties": {"epochs": {"type": "integer", "default": "two"}}}
)
NO_MODELS = _with(models=())
BAD_TASK = _with(models=_models("testplugin/x", task="caption"))
FOREIGN_NAMESPACE = _with(models=_models("ultralytics/yolo-fake"))
TWICE = _with(models=_models("testplugin/x", "testplugin/x"))
CLAIMS_CATALOG_ID = _with(models=_models("yolo11n-detect"))
OTHER = _with(name="other", models=_models("other/tiny"))
BARE = _with(models=_models("tiny-counter"))
COPYCAT_BARE = _with(name="copycat", models=_models("tiny-counter"))


class _BrokenManifest(TinyPlugin):
    @property  # type: ignore[override]
    def manifest(self) -> Manifest:
        raise RuntimeError("no manifest today")


LAZY_FAILS = _BrokenManifest()
NOT_A_MANIFEST = _with()
NOT_A_MANIFEST.manifest = {"name": "testplugin"}  # type: ignore[assignment]
