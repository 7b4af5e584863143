"""`train`: one call trains a model on a frozen dataset version.

The model id names a model of an installed plugin (the catalog's ``yolo11n-detect``
or a plugin's ``myplugin/model-x``; see :mod:`appliance.plugins`). At submission
the dataset version is pinned (``latest`` becomes a number) and the
hyperparameters are checked against that plugin's schema; the plugin says what the
run asks of the box. In the worker the version is held (it cannot be deleted while
it trains), laid out as a YOLO dataset in its frozen split, and trained by the
plugin (the catalog's runs in the training engine's own process group); every
epoch's metrics are recorded as they come. The files the plugin lists become the
job's artifacts, and its weights a new model version tied to the data, the run
and the plugin's name and version.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from appliance.domain.governor import HostReading, ResourceRequest
from appliance.domain.training.events import Epoch, Event, Log, Progress, Started
from appliance.errors import ApplianceError, InvalidInput
from appliance.jobs.handle import JobCancelled
from appliance.jobs.kinds import JobHandle, JobKind
from appliance.jobs.kinds import registry as kind_registry
from appliance.jobs.on_version import (
    dataset_problems,
    holding_version,
    pin_version,
    register_model,
)
from appliance.plugins.contract import (
    ModelInfo,
    ModelPlugin,
    PluginTrainingFailed,
    TrainContext,
    TrainingCancelled,
    TrainOutcome,
)
from appliance.plugins.overview import overview
from appliance.plugins.registry import plugins
from appliance.plugins.schema import validate_hyperparameters
from appliance.services import registry
from appliance.services.context import ServiceContext
from appliance.services.materialize import write_yolo

T = TypeVar("T")

KNOWN = {"dataset", "version", "model", "name", "hyperparameters", "weights"}
DEFAULT_MODEL = "yolo11n-detect"
CATALOG_PLUGIN = "ultralytics"
LOG_POLL_SECONDS = 0.5
LOG_DRAIN_SECONDS = 10.0
LOG_LINE_MAX = 500


class TrainingFailed(ApplianceError):
    code = "training-failed"


def validate(params: dict[str, Any]) -> dict[str, Any]:
    problems = [f"unknown parameter {n!r}" for n in sorted(set(params) - KNOWN)]
    problems += dataset_problems(params)
    model = params.get("model", DEFAULT_MODEL)
    plugin: ModelPlugin | None = None
    if not isinstance(model, str):
        problems.append("model must be a model id (text)")
    else:
        try:
            plugin, _ = plugins().resolve(model)
        except InvalidInput as exc:
            problems.append(f"{exc.message} ({exc.hint})")
    weights = params.get("weights")
    if weights is not None and not (isinstance(weights, str) and weights):
        problems.append("weights must name a registered model version: name or name@ref")
    if problems or plugin is None:
        raise InvalidInput(
            "; ".join(problems),
            hint="`ahoy job kinds --json` lists the parameters, `ahoy plugins` the models",
        )
    schema = plugin.manifest.hyperparameters
    hyper = validate_hyperparameters(schema, params.get("hyperparameters") or {})
    return {
        "dataset": params["dataset"],
        "version": str(params.get("version", "latest")),
        "model": model,
        "name": params.get("name") or params["dataset"],
        "hyperparameters": hyper,
        "weights": weights,
    }


async def prepare(ctx: ServiceContext, ws: str, params: dict[str, Any]) -> dict[str, Any]:
    """Pin the version: the run trains on what ``latest`` meant when it was asked."""
    registry.check_name(params["name"])
    if params.get("weights"):  # fine-tuning: pin the starting weights too
        name, _, ref = params["weights"].partition("@")
        mv = await registry.version(ctx, ws, name, ref or "latest")
        _, info = plugins().resolve(params["model"])
        if mv["format"] != "pt":
            raise InvalidInput(
                f"weights {params['weights']!r} are a {mv['format']} export, not trainable weights",
                hint=f"fine-tune from its source version (v{mv['parent']})",
            )
        if mv["task"] != info.task:
            raise InvalidInput(
                f"weights {params['weights']!r} are of a {mv['task']} model, not {info.task}",
                hint="fine-tune a model of the same task",
            )
        params = {
            **params,
            "weights": f"{name}@{mv['number']}",
            "weights_sha256": mv["weights_sha256"],
        }
    return await pin_version(ctx, ws, params)


def request(params: dict[str, Any], host: HostReading) -> ResourceRequest:
    plugin, info = plugins().resolve(params["model"])
    return plugin.resources(info.id, params["hyperparameters"], host)


async def run(job: JobHandle) -> dict[str, Any]:
    p = job.params
    plugin, info = plugins().resolve(p["model"])
    async with holding_version(job) as scratch:
        return await _train(job, plugin, info, scratch)


async def _train(
    job: JobHandle, plugin: ModelPlugin, info: ModelInfo, scratch: Path
) -> dict[str, Any]:
    p = job.params
    manifest = plugin.manifest
    await job.log(f"laying out {p['dataset']}@{p['version']} ({info.task}) in its frozen split")
    await write_yolo(job.ctx, job.ws, p["dataset"], p["version"], info.task, scratch / "data")
    loop = asyncio.get_running_loop()

    def on_loop(work: Coroutine[Any, Any, T]) -> T:  # from the plugin's (or its reader's) thread
        return asyncio.run_coroutine_threadsafe(work, loop).result()

    (scratch / "out").mkdir(parents=True, exist_ok=True)
    init: Path | None = None
    if p.get("weights_sha256"):
        init = scratch / "init.pt"
        data = await asyncio.to_thread(job.ctx.blobs.read, job.ws, p["weights_sha256"])
        await asyncio.to_thread(init.write_bytes, data)
        await job.log(f"fine-tuning from {p['weights']} (sha256 {p['weights_sha256'][:12]})")
    ctx = TrainContext(
        weights=init,
        model_id=info.id,
        task=info.task,
        dataset_dir=scratch / "data",
        output_dir=scratch / "out",
        hyperparameters=p["hyperparameters"],
        emit=lambda event: on_loop(_record(job, event)),
        adopt=lambda pgid: on_loop(job.set_pgid(pgid)),
        cancel_requested=lambda: on_loop(job.cancel_requested()),
        devices=_cuda_devices(job),
        threads=(job.job["request"] or {}).get("cpu_cores"),
        config_dir=job.ctx.settings.yolo_config_dir,
        labels={"job": job.id},
    )
    await job.log(f"training {info.id} with plugin {manifest.name} {manifest.version}")
    began = time.monotonic()
    stop = asyncio.Event()
    tail = asyncio.create_task(_follow_log(job, ctx.log_path, stop))
    try:
        outcome: TrainOutcome = await asyncio.to_thread(plugin.train, ctx)
    except TrainingCancelled as exc:
        raise JobCancelled(exc.message) from None
    except PluginTrainingFailed as exc:  # a cancel that broke the run still ends cancelled
        raise TrainingFailed(exc.message, hint=exc.hint) from None
    except ApplianceError:
        raise
    except Exception as exc:  # a plugin's bug ends the job with what it said
        raise TrainingFailed(
            f"plugin {manifest.name} failed: {type(exc).__name__}: {exc}",
            hint="see the job's log; report it to the plugin's authors",
        ) from exc
    finally:
        stop.set()
        with contextlib.suppress(Exception):  # the log is secondary: train.log is kept whole
            await asyncio.wait_for(tail, LOG_DRAIN_SECONDS)
    seconds = round(time.monotonic() - began, 3)
    await job.flush()
    if await job.cancel_requested():
        raise JobCancelled("the training was cancelled")
    stored, weights_name = await _store(job, outcome)
    best = stored.get(weights_name)
    if best is None:
        raise TrainingFailed("the run made no weights", hint="see the job's log")
    hyper = p["hyperparameters"]
    code = {
        **outcome.code,  # what the plugin adds; it cannot restate who made the run
        "plugin": manifest.name,
        "plugin_version": manifest.version,
        "model": info.id,
        "config_sha256": hashlib.sha256(json.dumps(hyper, sort_keys=True).encode()).hexdigest(),
    }
    if p.get("weights_sha256"):
        code["init_weights"] = {"model": p["weights"], "sha256": p["weights_sha256"]}
    base = await register_model(
        job,
        task=info.task,
        weights=best,
        metrics=dict(outcome.metrics),
        code=code,
        config={"hyperparameters": hyper, "seed": hyper.get("seed")},
        measured=(manifest.name, "val"),  # the plugin's own validation (Ultralytics': val)
    )
    return {
        **base,
        "plugin": manifest.name,
        "best_epoch": outcome.best_epoch,
        "epochs_run": outcome.epochs_run,
        "seconds": seconds,
        "artifacts": sorted(stored),
    }


async def _store(job: JobHandle, outcome: TrainOutcome) -> tuple[dict[str, Any], str]:
    """The outcome's files, its weights among them, as the job's artifacts (by name);
    and the name the weights are stored under."""
    files = dict(outcome.artifacts)
    weights = outcome.weights.resolve()
    name = next((n for n, path in files.items() if path.resolve() == weights), None)
    if name is None:
        name = outcome.weights.name
        if name in files:  # another file took the weights' own name
            name = f"weights{outcome.weights.suffix}"
        files[name] = outcome.weights
    stored = {}
    for artifact, path in sorted(files.items()):
        if path.is_file():
            stored[artifact] = await job.artifact(artifact, path)
    return stored, name


async def _follow_log(job: JobHandle, path: Path, stop: asyncio.Event) -> None:
    """The run's console output (Ultralytics' for the catalog), line by line, as the
    job's ``log`` events while it trains (the whole file is also kept as the
    train.log artifact). Progress-bar redraws (carriage returns) are collapsed to
    their last state. Once ``stop`` is set, the rest of the file is read, so the
    last lines of a short or failed run are not lost."""
    offset = 0
    pending = b""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), LOG_POLL_SECONDS)
        stopping = stop.is_set()
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                chunk = fh.read(1 << 20)
        except FileNotFoundError:
            chunk = b""
        offset += len(chunk)
        *lines, pending = (pending + chunk).split(b"\n")
        ended = stopping and not chunk
        if ended:
            lines.append(pending)
        for raw in lines:
            line = raw.rsplit(b"\r", 1)[-1].decode("utf-8", "replace").rstrip()
            if line:
                await job.log(line[:LOG_LINE_MAX])
        if ended:
            return


def _cuda_devices(job: JobHandle) -> tuple[str, ...]:
    """The granted GPUs as CUDA names them (a MIG slice by its uuid)."""
    named = (job.job.get("admission") or {}).get("cuda_visible_devices")
    return tuple(named.split(",")) if named else tuple(job.job["devices"])


async def _record(job: JobHandle, event: Event) -> None:
    if isinstance(event, Progress):
        await job.progress(event.done, event.total, "batch", epoch=event.epoch)
    elif isinstance(event, Log):
        await job.log(event.line)
    elif isinstance(event, Epoch):
        await job.event("epoch", dataclasses.asdict(event))
        await job.progress(event.epoch, event.epochs, "epoch")
    elif isinstance(event, Started):
        await job.event("started", dataclasses.asdict(event))


def describe() -> dict[str, Any]:
    """Every plugin (keyed by name) with its models and hyperparameter JSON Schema,
    and the training tiers this box offers. ``models`` lists every loaded plugin's
    models (each names its ``plugin``: the console renders that plugin's schema as
    the form); ``hyperparameters`` is the catalog's schema, as before plugins.
    Blocking (see :func:`appliance.plugins.overview.overview`)."""
    found = overview(kind_registry())
    loaded = [p for p in found["plugins"] if p["status"] == "available"]
    models = [{**m, "plugin": p["name"]} for p in loaded for m in p["models"]]
    schemas = {p.manifest.name: dict(p.manifest.hyperparameters) for p in plugins().available()}
    return {
        "models": models,
        "hyperparameters": schemas.get(CATALOG_PLUGIN) or next(iter(schemas.values()), {}),
        "plugins": {
            p["name"]: {**p, "hyperparameters": schemas.get(p["name"])} for p in found["plugins"]
        },
        "tiers": found["tiers"],
        "parameters": {
            "dataset": "the dataset's name (required)",
            "version": "a version number, vN, tag or latest (pinned when submitted)",
            "model": f"a model id of a plugin's models (default {DEFAULT_MODEL})",
            "name": "the model to register the weights under (default: the dataset's name)",
            "hyperparameters": "an object checked against the model's plugin's schema",
            "weights": "optional: fine-tune from a registered model version (name or name@ref)",
        },
    }


KIND = JobKind(
    name="train",
    summary="Train a catalog or plugin model on a frozen dataset version; registers the model",
    validate=validate,
    request=request,
    run=run,
    prepare=prepare,
    describe=describe,
)
