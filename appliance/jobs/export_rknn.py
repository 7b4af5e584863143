"""The RKNN leg of the export job: a static ONNX (batch 1, no NMS) → rknn-toolkit2
in its own environment (FP16, or INT8 calibrated on the version's train split),
with the parity images run on the toolkit's x86 simulator. The model is converted
with its head cut per stride (box logits and class scores apart, each with its own
INT8 scale); the simulator's outputs are joined back into the head's output and
decoded by the same code as every other format, so the parity is measured like
for like."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from ahoy_agent.runtime.decode import decode, join_branches
from ahoy_agent.runtime.letterbox import letterbox, read_image

from appliance.errors import InvalidInput, JobRejected
from appliance.export import rknn
from appliance.jobs.blob_files import write_blobs
from appliance.jobs.kinds import JobHandle
from appliance.jobs.on_model import SplitImages
from appliance.services import versions

T = TypeVar("T")
#: calibration images for INT8, drawn from the train split (seeded)
CALIBRATION_IMAGES = 64


def check_available() -> None:
    """Refuses at submission where the RKNN environment is missing, saying how to
    make it."""
    state = rknn.status()
    if not state["available"]:
        refused = JobRejected("export", str(state.get("reason")), needed={"runtime": "rknn"})
        refused.hint = str(state.get("hint") or "run `make rknn`")
        raise refused


async def calibration(job: JobHandle, folder: Path) -> list[Path]:
    """Up to CALIBRATION_IMAGES train images of the job's version, as files."""
    p = job.params
    _, rows = await versions.manifest(job.ctx, job.ws, p["dataset"], p["version"])
    train = [r for r in rows if r.split == "train" and r.role == "image"]
    if not train:
        raise InvalidInput(
            f"{p['dataset']}@{p['version']} has no train images to calibrate INT8 with",
            hint="export FP16, or name data with a train split",
        )
    chosen = random.Random(0).sample(train, min(CALIBRATION_IMAGES, len(train)))
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{n}{Path(row.filename).suffix}" for n, row in enumerate(chosen)]
    wanted: dict[str, list[Path]] = {}
    for row, path in zip(chosen, paths, strict=True):
        wanted.setdefault(row.sha256, []).append(path)
    await write_blobs(job, wanted, "calibration images")
    return paths


async def convert(
    job: JobHandle, onnx_path: Path, output: Path, images: SplitImages, simulated: Path
) -> dict[str, Any]:
    """Runs the toolkit (progress and its process group recorded on the job)."""
    p = job.params
    calib = (
        await calibration(job, onnx_path.parent / "calibration") if p["quantize"] == "int8" else []
    )
    loop = asyncio.get_running_loop()

    def on_loop(work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, loop).result()

    def on_event(event: dict[str, Any]) -> None:
        if event.get("kind") == "progress":
            on_loop(job.progress(event["done"], event["total"], "steps", phase=event.get("phase")))

    made = await asyncio.to_thread(
        rknn.convert,
        onnx_path,
        output,
        quantize=p["quantize"],
        calibration=calib,
        simulate=[Path(i["path"]) for i in images.items],
        simulate_out=simulated,
        on_event=on_event,
        on_start=lambda pid: on_loop(job.set_pgid(pid)),
    )
    return {**made, "calibration_images": len(calib)}


def simulated_output(simulated: Path, i: int, size: int) -> np.ndarray:
    """Image ``i``'s outputs from the simulator (``i_<k>.npy``, the cut model's
    branches) joined into the head's ``[1, 4 + classes, anchors]``."""
    parts = sorted(simulated.glob(f"{i}_*.npy"), key=lambda p: int(p.stem.split("_")[1]))
    return join_branches([np.load(p) for p in parts], (size, size))


def simulated_predictions(images: SplitImages, simulated: Path, size: int) -> dict[str, Any]:
    """The simulator's raw outputs, decoded like any format's (the predict worker's
    output document)."""
    detections: dict[str, Any] = {}
    sizes: dict[str, list[int]] = {}
    for i, item in enumerate(images.items):
        _, fitted = letterbox(read_image(item["path"]), size)
        (found,) = decode(simulated_output(simulated, i, size), [fitted])
        detections[item["id"]] = found.as_list()
        sizes[item["id"]] = [fitted.width, fitted.height]
    timing = {"images": len(images.items), "imgsz": size, "batch": 1, "runtime": "simulator"}
    return {"detections": detections, "sizes": sizes, "timing": timing, "names": {}}
