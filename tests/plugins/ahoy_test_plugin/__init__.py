"""``testplugin``: a tiny model plugin, for tests. Its "training" counts the images
and labelled boxes of the dataset it is given, one epoch a pass, and writes what
it counted as its weights file: fast, deterministic, no ML library."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from appliance.domain.governor import MIB, HostReading, ResourceRequest
from appliance.domain.training.events import Epoch, Log, Started
from appliance.plugins.contract import (
    Manifest,
    ModelInfo,
    PluginTrainingFailed,
    TrainContext,
    TrainingCancelled,
    TrainOutcome,
)

NAME = "testplugin"
VERSION = "0.3.0"
MODEL = "testplugin/tiny"

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "testplugin hyperparameters",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "epochs": {"type": "integer", "default": 2, "minimum": 1, "maximum": 20, "title": "Epochs"},
        "seed": {"type": "integer", "default": 0, "minimum": 0, "title": "Seed"},
        "fail": {"type": "boolean", "default": False, "title": "Fail on purpose"},
    },
}


class TinyPlugin:
    manifest = Manifest(
        name=NAME,
        version=VERSION,
        summary="counts boxes; for tests",
        models=(ModelInfo(MODEL, "detect", "Tiny box counter", {"params": 3}),),
        hyperparameters=SCHEMA,
    )

    def resources(
        self, model_id: str, hyperparameters: Mapping[str, Any], host: HostReading
    ) -> ResourceRequest:
        return ResourceRequest(cpu_cores=1, ram_bytes=64 * MIB, disk_bytes=1 * MIB)

    def train(self, ctx: TrainContext) -> TrainOutcome:
        epochs = int(ctx.hyperparameters["epochs"])
        counts = {split: _count(ctx.dataset_dir, split) for split in ("train", "val")}
        ctx.emit(
            Started(
                pid=os.getpid(),
                model=ctx.model_id,
                task=ctx.task,
                epochs=epochs,
                device="cpu",
                versions={"ahoy_test_plugin": VERSION},
            )
        )
        with open(ctx.log_path, "a", encoding="utf-8") as log:
            for epoch in range(1, epochs + 1):
                if ctx.cancel_requested():
                    raise TrainingCancelled("stopped by a cancel")
                log.write(f"testplugin epoch {epoch}/{epochs}: {counts}\n")
                log.flush()
                score = round(epoch / epochs, 4)
                ctx.emit(
                    Epoch(
                        epoch=epoch,
                        epochs=epochs,
                        train_losses={"count": round(1 / epoch, 4)},
                        val_losses={"count": round(1 / epoch, 4)},
                        precision=score,
                        recall=score,
                        map50=score,
                        map50_95=score / 2,
                        lr=None,
                        seconds=0.01,
                    )
                )
                time.sleep(0.05)
        if ctx.hyperparameters["fail"]:
            raise PluginTrainingFailed("testplugin was asked to fail", hint="set fail to false")
        ctx.emit(Log(line=f"testplugin counted {counts}"))
        weights = ctx.output_dir / "tiny.weights"
        weights.write_text(
            json.dumps({"counts": counts, "seed": ctx.hyperparameters["seed"]}, sort_keys=True)
        )
        return TrainOutcome(
            weights=weights,
            metrics={"map50": 1.0, "boxes": float(counts["train"]["boxes"])},
            artifacts={"train.log": ctx.log_path},
            code={"trainer": "ahoy_test_plugin.count"},
            best_epoch=epochs,
            epochs_run=epochs,
        )


def _count(root: Path, split: str) -> dict[str, int]:
    images = [p for p in (root / "images" / split).glob("*") if p.is_file()]
    labels = (root / "labels" / split).glob("*.txt")
    boxes = sum(len([r for r in p.read_text().splitlines() if r.strip()]) for p in labels)
    return {"images": len(images), "boxes": boxes}


PLUGIN = TinyPlugin()
