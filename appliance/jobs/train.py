"""`train`: one call trains a catalog model on a frozen dataset version.

At submission the dataset version is pinned (``latest`` becomes a number) and the
hyperparameters are checked against their schema. In the worker the version is
held (it cannot be deleted while it trains), laid out as a YOLO dataset in its
frozen split, and trained by the training engine in its own process group; every
epoch's metrics are recorded as they come. The weights, results and log become
the job's artifacts, and best.pt a new model version tied to the data and run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

from appliance.domain.governor import HostReading, ResourceRequest
from appliance.domain.training import catalog, hyperparams
from appliance.domain.training.catalog import wants_gpu
from appliance.domain.training.events import Epoch, Event, Log, Progress, Started
from appliance.errors import ApplianceError, InvalidInput
from appliance.jobs.handle import JobCancelled, JobHandle
from appliance.jobs.kinds import JobKind
from appliance.services import registry
from appliance.services.context import ServiceContext
from appliance.services.materialize import write_yolo
from appliance.training import supervise
from appliance.training.spec import TrainSpec, validate_hyperparameters
from appliance.training.worker_main import LOG_NAME

KNOWN = {"dataset", "version", "model", "name", "hyperparameters"}
LOG_POLL_SECONDS = 0.5
LOG_LINE_MAX = 500
HOLD_KIND = "run"


class TrainingFailed(ApplianceError):
    code = "training-failed"


def validate(params: dict[str, Any]) -> dict[str, Any]:
    problems = [f"unknown parameter {n!r}" for n in sorted(set(params) - KNOWN)]
    if not isinstance(params.get("dataset"), str) or not params.get("dataset"):
        problems.append("dataset (the dataset's name) is required")
    model = params.get("model", "yolo11n-detect")
    try:
        catalog.get(model)
    except InvalidInput as exc:
        problems.append(exc.message)
    if problems:
        raise InvalidInput("; ".join(problems), hint="see `ahoy train --help`")
    hyper = validate_hyperparameters(params.get("hyperparameters") or {})
    return {
        "dataset": params["dataset"],
        "version": str(params.get("version", "latest")),
        "model": model,
        "name": params.get("name") or params["dataset"],
        "hyperparameters": hyper,
    }


async def prepare(ctx: ServiceContext, ws: str, params: dict[str, Any]) -> dict[str, Any]:
    """Pin the version: the run trains on what ``latest`` meant when it was asked."""
    registry.check_name(params["name"])
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.get_dataset(params["dataset"])
        version = await uow.get_version(ds.id, params["version"])
    return {
        **params,
        "version": str(version.number),
        "version_id": version.id,
        "manifest_hash": version.manifest_hash,
    }


def request(params: dict[str, Any], host: HostReading) -> ResourceRequest:
    entry = catalog.get(params["model"])
    gpu = wants_gpu(params["hyperparameters"], host_has_gpu=bool(host.gpus))
    return entry.resource_request(params["hyperparameters"], gpu=gpu)


async def run(job: JobHandle) -> dict[str, Any]:
    p = job.params
    entry = catalog.get(p["model"])
    scratch = job.ctx.settings.cache_dir / "jobs" / job.id
    async with job.ctx.catalog.writing(job.ws) as uow:
        await uow.add_hold(p["version_id"], HOLD_KIND, job.id)
    try:
        return await _train(job, entry, scratch)
    finally:
        async with job.ctx.catalog.writing(job.ws) as uow:
            await uow.release_hold(p["version_id"], HOLD_KIND, job.id)
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def _train(job: JobHandle, entry: catalog.ModelEntry, scratch: Path) -> dict[str, Any]:
    p = job.params
    await job.log(f"laying out {p['dataset']}@{p['version']} ({entry.task}) in its frozen split")
    await write_yolo(job.ctx, job.ws, p["dataset"], p["version"], entry.task, scratch / "data")
    spec = TrainSpec.create(
        scratch / "data",
        entry.id,
        p["hyperparameters"],
        scratch / "out",
        devices=tuple(job.job["devices"]),
        threads=(job.job["request"] or {}).get("cpu_cores"),
        config_dir=job.ctx.settings.yolo_config_dir,
        extra={"job": job.id},
    )
    loop = asyncio.get_running_loop()
    started: dict[str, Any] = {}

    def on_event(event: Event) -> None:  # on the engine's reader thread
        if isinstance(event, Started):
            started.update(event.versions)
        asyncio.run_coroutine_threadsafe(_record(job, event), loop).result()

    proc = supervise.start(spec, on_event=on_event)
    await job.set_pgid(proc.pgid)
    tail = asyncio.create_task(_follow_log(job, spec.output_dir / LOG_NAME))
    try:
        outcome = await asyncio.to_thread(proc.wait)
    finally:
        tail.cancel()
    await job.flush()
    if outcome.status == supervise.CANCELLED or await job.cancel_requested():
        raise JobCancelled("the training was cancelled")
    if outcome.status != supervise.SUCCEEDED:
        raise TrainingFailed(outcome.error or "training failed", hint=outcome.hint or "")
    stored = {}
    for name, path in sorted(outcome.artifacts.items()):
        if path.is_file():
            stored[name] = await job.artifact(name, path)
    best = stored.get("best.pt") or stored.get("last.pt")
    if best is None:
        raise TrainingFailed("the run made no weights", hint="see the job's log")
    code = {
        "catalog": entry.id,
        "yaml": entry.yaml,
        "appliance": metadata.version("ahoy-perception"),
        **started,
        "config_sha256": hashlib.sha256(
            json.dumps(p["hyperparameters"], sort_keys=True).encode()
        ).hexdigest(),
    }
    mv = await registry.register_run(
        job.ctx,
        job.ws,
        name=p["name"],
        task=entry.task,
        run_id=job.id,
        dataset_version_id=p["version_id"],
        weights=(best["sha256"], best["size"]),
        metrics=dict(outcome.metrics),
        code=code,
        config={"hyperparameters": p["hyperparameters"], "seed": spec.seed},
        actor=job.job["created_by"],
    )
    return {
        "model": p["name"],
        "model_version": mv["number"],
        "dataset": p["dataset"],
        "version": int(p["version"]),
        "metrics": outcome.metrics,
        "best_epoch": outcome.best_epoch,
        "epochs_run": outcome.epochs_run,
        "seconds": outcome.seconds,
        "artifacts": sorted(stored),
    }


async def _follow_log(job: JobHandle, path: Path) -> None:
    """Ultralytics' console output, line by line, as the job's ``log`` events while
    it trains (the whole file is also kept as the train.log artifact). Progress-bar
    redraws (carriage returns) are collapsed to their last state."""
    offset = 0
    pending = b""
    while True:
        await asyncio.sleep(LOG_POLL_SECONDS)
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                chunk = fh.read(1 << 20)
        except FileNotFoundError:
            continue
        offset += len(chunk)
        *lines, pending = (pending + chunk).split(b"\n")
        for raw in lines:
            line = raw.rsplit(b"\r", 1)[-1].decode("utf-8", "replace").rstrip()
            if line:
                await job.log(line[:LOG_LINE_MAX])


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
    """The catalog and the hyperparameter JSON Schema (the console renders the form)."""
    return {
        "models": [
            {"id": e.id, "task": e.task, "family": e.family, "size": e.size, "params": e.params}
            for e in catalog.entries()
        ],
        "hyperparameters": hyperparams.schema(),
        "parameters": {
            "dataset": "the dataset's name (required)",
            "version": "a version number, vN, tag or latest (pinned when submitted)",
            "model": "a catalog id (default yolo11n-detect)",
            "name": "the model to register the weights under (default: the dataset's name)",
            "hyperparameters": "an object checked against the schema above",
        },
    }


KIND = JobKind(
    name="train",
    summary="Train a catalog model on a frozen dataset version; registers the model",
    validate=validate,
    request=request,
    run=run,
    prepare=prepare,
    describe=describe,
)
