"""`evaluate`: measure a model version (weights or an export) on a split of a
dataset version.

By default on the frozen test split of the version it was trained on (val when
that version has no test images). Detections come from the one inference path
(appliance.inference: the same letterbox, decoding and NMS for every format); the
scores are COCO's (appliance.domain.evaluation). The report (per-class AP, PR
curves, confusion matrix at a stated score and IoU, per-image errors) and its
pictures become the job's artifacts; a summary is recorded as an evaluation of
the model version.
"""

from __future__ import annotations

from typing import Any

from appliance.domain.governor import GIB, HostReading, ResourceRequest
from appliance.errors import InvalidInput
from appliance.jobs import on_model
from appliance.jobs.kinds import JobHandle, JobKind
from appliance.jobs.on_version import holding_version, pin_version
from appliance.services import versions
from appliance.services.context import ServiceContext

KNOWN = {"model", "dataset", "version", "split", "conf", "iou", "imgsz"}


def validate(params: dict[str, Any]) -> dict[str, Any]:
    problems = [f"unknown parameter {n!r}" for n in sorted(set(params) - KNOWN)]
    model = params.get("model")
    if not isinstance(model, str) or not model:
        problems.append("model must name a model version: name or name@ref")
    for name, low, high in (("conf", 0.0, 1.0), ("iou", 0.05, 0.95)):
        value = params.get(name, 0.5)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not low <= value <= high:
            problems.append(f"{name} must be a number from {low:g} to {high:g}")
    imgsz = params.get("imgsz")
    fits = isinstance(imgsz, int) and 32 <= imgsz <= 4096 and imgsz % 32 == 0
    if imgsz is not None and not fits:
        problems.append("imgsz must be a multiple of 32 from 32 to 4096")
    for name in ("dataset", "version", "split"):
        if params.get(name) is not None and not isinstance(params[name], str | int):
            problems.append(f"{name} must be text")
    if problems:
        raise InvalidInput("; ".join(problems), hint="`ahoy job kinds --json` lists them")
    return {
        "model": model,
        "dataset": params.get("dataset"),
        "version": str(params["version"]) if params.get("version") is not None else None,
        "split": params.get("split"),
        "conf": float(params.get("conf", 0.25)),
        "iou": float(params.get("iou", 0.45)),
        "imgsz": imgsz,
    }


async def prepare(ctx: ServiceContext, ws: str, params: dict[str, Any]) -> dict[str, Any]:
    """Pin the model version, the data (its training data unless named) and the split."""
    return await pin_target(ctx, ws, params)


async def pin_target(ctx: ServiceContext, ws: str, params: dict[str, Any]) -> dict[str, Any]:
    mv = await on_model.pin_model(ctx, ws, params["model"])
    if mv["format"] not in on_model.RUNNABLE:
        raise InvalidInput(
            f"{mv['model']}@{mv['number']} is a {mv['format']} artifact; it is measured by"
            " its export job (on the RKNN simulator)",
            hint="evaluate its source weights or an ONNX export",
        )
    dataset, version = params.get("dataset"), params.get("version")
    if dataset is None:
        dataset, trained_on = await on_model.training_data(ctx, ws, mv)
        version = version or trained_on
    data = {**params, "dataset": dataset, "version": version or "latest"}
    pinned = await pin_version(ctx, ws, data)
    split = params.get("split") or await default_split(ctx, ws, dataset, pinned["version"])
    imgsz = params.get("imgsz") or on_model.trained_size(mv)
    return {
        **pinned,
        "model": f"{mv['model']}@{mv['number']}",
        "model_version_id": mv["id"],
        "model_format": mv["format"],
        "task": mv["task"],
        "split": split,
        "imgsz": imgsz,
    }


async def default_split(ctx: ServiceContext, ws: str, dataset: str, version: str) -> str:
    """``test``; ``val`` when the version has no test images."""
    _, rows = await versions.manifest(ctx, ws, dataset, version)
    splits = {r.split for r in rows if r.role == "image"}
    return "test" if "test" in splits or "val" not in splits else "val"


def request(params: dict[str, Any], host: HostReading) -> ResourceRequest:
    return ResourceRequest(cpu_cores=min(2, host.cores), ram_bytes=2 * GIB, disk_bytes=2 * GIB)


async def run(job: JobHandle) -> dict[str, Any]:
    p = job.params
    mv = await on_model.pin_model(job.ctx, job.ws, p["model"])
    async with holding_version(job) as scratch:
        images = on_model.SplitImages(scratch / "images")
        await images.load(job, p["dataset"], p["version"], p["split"])
        await job.log(
            f"measuring {p['model']} ({mv['format']}) on {len(images.items)} {p['split']}"
            f" image(s) of {p['dataset']}@{p['version']} at {p['imgsz']} px"
        )
        weights = await on_model.fetch_weights(job, mv, scratch / "model")
        found = await on_model.predict(job, weights, mv["format"], images, p["imgsz"], "eval")
        row = await on_model.record(job, mv, images, found, where(p), mv["format"])
    s = row["summary"]
    await job.log(f"mAP50 {s['map50']}, mAP50-95 {s['map50_95']} over {s['images']} image(s)")
    return {
        "evaluation": row["id"],
        "model": p["model"],
        "dataset": p["dataset"],
        "version": int(p["version"]),
        "split": p["split"],
        "map50": s["map50"],
        "map50_95": s["map50_95"],
        "images": s["images"],
    }


def where(p: dict[str, Any]) -> dict[str, Any]:
    """The settings an evaluation is recorded with."""
    return {
        "dataset": p["dataset"],
        "version": int(p["version"]),
        "version_id": p["version_id"],
        "split": p["split"],
        "imgsz": p["imgsz"],
        "conf": p["conf"],
        "iou": p["iou"],
        "measures": "boxes",  # a segment or pose model is scored on its boxes
    }


KIND = JobKind(
    name="evaluate",
    summary="Measure a model version on a split of a dataset version (COCO AP, PR curves,"
    " confusion matrix, per-image errors)",
    validate=validate,
    request=request,
    run=run,
    prepare=prepare,
    describe=lambda: {
        "parameters": {
            "model": "the model version: name or name@ref (number, tag, latest)",
            "dataset": "the data (default: what the model was trained on)",
            "version": "its version (default: the trained-on version, or latest)",
            "split": "the split (default test; val when there is no test split)",
            "conf": "score threshold of the confusion matrix and error lists (default 0.25)",
            "iou": "IoU threshold of the confusion matrix and error lists (default 0.45)",
            "imgsz": "input size (default: the training size)",
        }
    },
)
