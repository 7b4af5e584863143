"""What jobs on a model version share (evaluation, export): the version pinned at
submission, its weights fetched, and a measurement on a split of a dataset
version through the one inference path (appliance.inference), recorded as an
evaluation with its report and pictures as artifacts."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from appliance.domain.labels.document import LabelDocument
from appliance.domain.records import Evaluation, ModelVersion
from appliance.errors import ApplianceError, InvalidInput
from appliance.jobs.blob_files import write_blobs
from appliance.jobs.kinds import JobHandle
from appliance.services import measure, registry, versions
from appliance.services.context import ServiceContext
from appliance.services.labels import get_schema, read_labels


class PredictionFailed(ApplianceError):
    code = "prediction-failed"


#: tasks measured by their boxes (a segment or pose model's boxes, for now)
BOXED = ("detect", "segment", "pose")
#: what the predict worker can run (RKNN goes through its own environment)
RUNNABLE = ("pt", "onnx", "tensorrt")
DEFAULT_IMGSZ = 640


def split_name(ref: str) -> tuple[str, str]:
    name, _, ref = ref.partition("@")
    return name, ref or "latest"


async def pin_model(ctx: ServiceContext, ws: str, ref: str) -> ModelVersion:
    """The model version ``name@ref`` names now; refuses what cannot be measured."""
    name, at = split_name(ref)
    mv = await registry.version(ctx, ws, name, at)
    if mv["task"] not in BOXED:
        raise InvalidInput(
            f"{name}@{mv['number']} is a {mv['task']} model; evaluation and export measure"
            f" boxes ({', '.join(BOXED)} models)",
            hint="choose a model that finds objects",
        )
    return mv


def trained_size(mv: ModelVersion) -> int:
    """The input size a version was trained (or exported) at: what it is measured at."""
    config = mv["config"]
    size = config.get("imgsz") or (config.get("hyperparameters") or {}).get("imgsz")
    return int(size or DEFAULT_IMGSZ)


async def training_data(ctx: ServiceContext, ws: str, mv: ModelVersion) -> tuple[str, str]:
    """The dataset and version a model version was trained on (for defaults)."""
    lineage = await registry.lineage(ctx, ws, mv["model"], str(mv["number"]))
    data = lineage["data"]
    if data is None:
        raise InvalidInput(
            f"{mv['model']}@{mv['number']} has no training data on record",
            hint="name the dataset (and version) to measure it on",
        )
    return str(data["dataset"]), str(data["number"])


async def fetch_weights(job: JobHandle, mv: ModelVersion, scratch: Path) -> Path:
    path = scratch / f"{mv['model']}-{mv['number']}.{mv['format']}"
    if not path.exists():
        data = await asyncio.to_thread(job.ctx.blobs.read, job.ws, mv["weights_sha256"])
        scratch.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(path.write_bytes, data)
    return path


class SplitImages:
    """A split of a dataset version laid out as files, once per job."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.items: list[dict[str, str]] = []
        self.docs: dict[str, LabelDocument | None] = {}
        self.names: list[str] = []

    async def load(self, job: JobHandle, dataset: str, version: str, split: str) -> None:
        ctx, ws = job.ctx, job.ws
        _, rows = await versions.manifest(ctx, ws, dataset, version)
        chosen = [r for r in rows if r.split == split and r.role == "image"]
        if not chosen:
            present = sorted({r.split for r in rows if r.role == "image"})
            raise InvalidInput(
                f"{dataset}@{version} has no {split} images",
                hint=f"choose one of its splits: {', '.join(present) or 'none'}",
            )
        digests = {r.label_sha256 for r in chosen if r.label_sha256}
        labels = await asyncio.to_thread(read_labels, ctx, ws, digests)
        self.folder.mkdir(parents=True, exist_ok=True)
        wanted: dict[str, list[Path]] = {}
        for n, row in enumerate(chosen):
            path = self.folder / f"{n}{Path(row.filename).suffix}"
            wanted.setdefault(row.sha256, []).append(path)
            self.items.append({"id": row.filename, "path": str(path)})
            self.docs[row.filename] = labels.get(row.label_sha256) if row.label_sha256 else None
        await write_blobs(job, wanted, "images laid out")
        schema = await get_schema(ctx, ws, dataset)
        self.names = schema.names() if schema is not None else []


async def predict(
    job: JobHandle, weights: Path, fmt: str, images: SplitImages, imgsz: int, label: str
) -> dict[str, Any]:
    """Run the predict worker in the job's process group; its output document."""
    if fmt not in RUNNABLE:
        raise InvalidInput(f"format {fmt!r} cannot be run here", hint=f"use {RUNNABLE}")
    out = weights.parent / f"predictions-{label}.json"
    spec = weights.parent / f"predict-{label}.json"
    threads = (job.job["request"] or {}).get("cpu_cores") or 1
    spec.write_text(
        json.dumps(
            {
                "model": str(weights),
                "format": fmt,
                "imgsz": imgsz,
                "batch": 8,
                "threads": threads,
                "images": images.items,
                "out": str(out),
                "config_dir": str(job.ctx.settings.yolo_config_dir),
            }
        )
    )

    failure: list[str] = []

    async def on_event(event: dict[str, Any]) -> None:
        if event["kind"] == "progress":
            await job.progress(event["done"], event["total"], f"images ({label})")
        elif event["kind"] == "error":
            failure.append(str(event.get("message")))

    argv = [sys.executable, "-m", "appliance.inference.predict_worker", str(spec)]
    code = await job.run_process(argv, on_event=on_event)
    if code != 0:
        why = failure[0] if failure else f"exit {code}"
        raise PredictionFailed(
            f"predicting with the {label} model failed: {why}", hint="see the job's log"
        )
    answer: dict[str, Any] = json.loads(out.read_text())
    return answer


async def record(
    job: JobHandle,
    mv: ModelVersion,
    images: SplitImages,
    predictions: dict[str, Any],
    where: dict[str, Any],
    label: str,
) -> Evaluation:
    """Score the predictions, store the report and pictures as ``label/...``
    artifacts, and record the evaluation; returns its row."""
    names = images.names or [
        predictions["names"].get(str(i), str(i)) for i in range(len(predictions["names"]))
    ]
    gt = measure.ground_truth(images.docs, predictions["sizes"])
    dets = measure.detections(predictions["detections"])
    conf, iou = where["conf"], where["iou"]
    rep = await asyncio.to_thread(measure.report, gt, dets, names, conf=conf, iou=iou)
    folder = Path(images.folder).parent / f"report-{label}"
    folder.mkdir(parents=True, exist_ok=True)
    files = {"evaluation.json": json.dumps({**rep.full, "timing": predictions["timing"]})}
    files.update(rep.pictures)
    for name, text in files.items():
        (folder / name).write_text(text)
        await job.artifact(f"{label}/{name}", folder / name)
    settings = {**where, "timing": predictions["timing"], "artifacts": label}
    async with job.ctx.catalog.writing(job.ws) as uow:
        return await uow.evaluations.add(
            f"{job.id}.{label}",
            job.id,
            mv["id"],
            where["version_id"],
            where["split"],
            rep.summary,
            settings,
            job.job["created_by"],
        )
