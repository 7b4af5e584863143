"""What every job that works on a dataset version shares: the version pinned at
submission, held (not deletable) while the job runs, a scratch folder, and, for a
training job, its weights registered as a model version tied to that version."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from appliance.domain.measurement import KEY, SCRIPT, measurement
from appliance.jobs.kinds import JobHandle
from appliance.services import registry, versions
from appliance.services.context import ServiceContext

HOLD_KIND = "run"


def dataset_problems(params: dict[str, Any]) -> list[str]:
    if not isinstance(params.get("dataset"), str) or not params.get("dataset"):
        return ["dataset (the dataset's name) is required"]
    return []


async def pin_version(ctx: ServiceContext, ws: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the version as a number (what ``latest`` or a tag meant when
    the job was asked for), its id and its manifest hash."""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(params["dataset"])
        version = await uow.versions.get(ds.id, params["version"])
    return {
        **params,
        "version": str(version.number),
        "version_id": version.id,
        "manifest_hash": version.manifest_hash,
    }


@asynccontextmanager
async def holding_version(job: JobHandle) -> AsyncIterator[Path]:
    """Hold the job's version for as long as it runs; yields its scratch folder,
    removed afterwards."""
    version_id = job.params["version_id"]
    scratch = job.ctx.settings.cache_dir / "jobs" / job.id
    async with job.ctx.catalog.writing(job.ws) as uow:
        await uow.versions.add_hold(version_id, HOLD_KIND, job.id)
    try:
        yield scratch
    finally:
        async with job.ctx.catalog.writing(job.ws) as uow:
            await uow.versions.release_hold(version_id, HOLD_KIND, job.id)
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def register_model(
    job: JobHandle,
    *,
    task: str,
    weights: dict[str, Any],
    metrics: dict[str, Any],
    code: dict[str, Any],
    config: dict[str, Any],
    measured: tuple[str, str | None] = (SCRIPT, None),
) -> dict[str, Any]:
    """Register the run's ``weights`` (a stored artifact: sha256, size) as a new
    version of the model ``params.name``, tied to the job's dataset version and to
    the job; ``code`` gains the appliance's version. ``measured``: who measured
    ``metrics`` on which split (a plugin's validation: its name and ``val``; a
    script's report: split not known), recorded with them. Returns the result
    fields every training job reports."""
    p = job.params
    by, split = measured
    images = None
    if split is not None:
        _, rows = await versions.manifest(job.ctx, job.ws, p["dataset"], p["version"])
        images = sum(1 for r in rows if r.role == "image" and r.split == split)
    measured_on = measurement(
        by, split=split, images=images, dataset=p["dataset"], version=int(p["version"])
    )
    mv = await registry.register_run(
        job.ctx,
        job.ws,
        name=p["name"],
        task=task,
        run_id=job.id,
        dataset_version_id=p["version_id"],
        weights=(weights["sha256"], weights["size"]),
        metrics={**metrics, KEY: measured_on},
        code={**code, "appliance": metadata.version("ahoy-perception")},
        config=config,
        actor=job.job["created_by"],
    )
    return {
        "model": p["name"],
        "model_version": mv["number"],
        "dataset": p["dataset"],
        "version": int(p["version"]),
        "metrics": metrics,
        KEY: measured_on,  # what measured the metrics, on what
    }
