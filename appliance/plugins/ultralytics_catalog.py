"""The built-in catalog as the first model plugin: Ultralytics YOLO11 and RT-DETR
(:mod:`appliance.domain.training.catalog`), trained by the training engine
(:mod:`appliance.training`) in its own offline, network-guarded process group.

This module only adapts: model list, schema and resource estimates come from the
domain catalog, the run from :func:`appliance.training.supervise.start`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from appliance.domain.governor import HostReading, ResourceRequest
from appliance.domain.training import catalog, hyperparams
from appliance.domain.training.catalog import wants_gpu
from appliance.domain.training.events import Event, Started
from appliance.plugins.contract import (
    Manifest,
    ModelInfo,
    PluginTrainingFailed,
    TrainContext,
    TrainingCancelled,
    TrainOutcome,
)
from appliance.training import supervise
from appliance.training.spec import TrainSpec

NAME = "ultralytics"


class UltralyticsCatalog:
    """Tier 0: the catalog of architectures built from their YAML, never downloaded."""

    @functools.cached_property
    def manifest(self) -> Manifest:
        return Manifest(
            name=NAME,
            version=metadata.version("ahoy-perception"),  # ships with the appliance
            summary="Ultralytics YOLO11 (detect, segment, pose, classify) and RT-DETR, "
            "built from their architecture YAML",
            models=tuple(
                ModelInfo(
                    id=e.id,
                    task=e.task,
                    title=f"{e.family} {e.size} {e.task}",
                    details={"family": e.family, "size": e.size, "params": e.params},
                )
                for e in catalog.entries()
            ),
            hyperparameters=hyperparams.schema(),
        )

    def resources(
        self, model_id: str, hyperparameters: Mapping[str, Any], host: HostReading
    ) -> ResourceRequest:
        gpu = wants_gpu(hyperparameters, host_has_gpu=bool(host.gpus))
        return catalog.get(model_id).resource_request(hyperparameters, gpu=gpu)

    def build(self, model_id: str, hyperparameters: Mapping[str, Any]) -> Mapping[str, Any]:
        e = catalog.get(model_id)
        return {"yaml": e.yaml, "params": e.params, "params_class": e.params_class}

    def train(self, ctx: TrainContext) -> TrainOutcome:
        entry = catalog.get(ctx.model_id)
        spec = TrainSpec.create(
            ctx.dataset_dir,
            str(ctx.weights) if ctx.weights is not None else entry.id,
            ctx.hyperparameters,
            ctx.output_dir,
            devices=tuple(ctx.devices),
            threads=ctx.threads,
            config_dir=ctx.config_dir,
            extra=dict(ctx.labels),
        )
        versions: dict[str, str] = {}

        def on_event(event: Event) -> None:  # on the engine's reader thread
            if isinstance(event, Started):
                versions.update(event.versions)
            ctx.emit(event)

        proc = supervise.start(spec, on_event=on_event)
        ctx.adopt(proc.pgid)
        outcome = proc.wait()
        if outcome.status == supervise.CANCELLED:
            raise TrainingCancelled("the training was cancelled")
        if outcome.status != supervise.SUCCEEDED:
            raise PluginTrainingFailed(outcome.error or "training failed", hint=outcome.hint or "")
        weights = _weights(outcome.artifacts)
        if weights is None:
            raise PluginTrainingFailed("the run made no weights", hint="see the job's log")
        return TrainOutcome(
            weights=weights,
            metrics=dict(outcome.metrics),
            artifacts=dict(outcome.artifacts),
            code={"catalog": entry.id, "yaml": entry.yaml, **versions},
            best_epoch=outcome.best_epoch,
            epochs_run=outcome.epochs_run,
        )


def _weights(artifacts: Mapping[str, Path]) -> Path | None:
    for name in ("best.pt", "last.pt"):
        path = artifacts.get(name)
        if path is not None and path.is_file():
            return path
    return None


PLUGIN = UltralyticsCatalog()
