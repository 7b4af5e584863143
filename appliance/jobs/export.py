"""`export`: trained weights → a deployable artifact, registered with its lineage
and its parity measured.

ONNX: dynamic batch (default) or static, NMS inside or not, opset recorded, the
appliance's metadata (the export's own model version, the source's version and
weights digest, dataset fingerprint) embedded beside Ultralytics' (class names,
input size, stride). The export becomes a new version of the same model naming
its source version, with the export options and tool versions as its code and
config. Then the parity gate's measurement: the source weights and the export are
evaluated through the same inference path on the same split (test by default, of
the data the model was trained on); the delta (export − source) is recorded on the
export with the image and object counts, and promotion refuses an export that
lost more than the tolerance, or whose parity was measured on too little data to
decide (appliance.domain.parity).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from appliance.domain.governor import GIB, HostReading, ResourceRequest
from appliance.domain.measurement import COCO, measurement
from appliance.domain.parity import describe as describe_parity
from appliance.domain.parity import measure as measure_parity
from appliance.domain.records import ModelVersion
from appliance.errors import ApplianceError, InvalidInput
from appliance.export import tensorrt
from appliance.jobs import export_rknn, on_model
from appliance.jobs.evaluate import pin_target, where
from appliance.jobs.evaluate import validate as evaluation
from appliance.jobs.kinds import JobHandle, JobKind
from appliance.jobs.on_version import holding_version
from appliance.ports.blobstore import BlobPut
from appliance.services import registry
from appliance.services.context import ServiceContext

FORMATS = ("onnx", "rknn", "tensorrt")
QUANTIZE = ("fp16", "int8")
KNOWN = {"model", "format", "dynamic", "batch", "nms", "opset", "imgsz", "quantize"}
KNOWN |= {"nms_conf", "nms_iou"}
KNOWN |= {"dataset", "version", "split", "conf", "iou"}


#: registrations tried when other versions of the model keep taking the number
REGISTER_TRIES = 5


class ExportFailed(ApplianceError):
    code = "export-failed"


def validate(params: dict[str, Any]) -> dict[str, Any]:
    problems = [f"unknown parameter {n!r}" for n in sorted(set(params) - KNOWN)]
    fmt = params.get("format", "onnx")
    if fmt not in FORMATS:
        problems.append(f"format must be one of {', '.join(FORMATS)}")
    for flag in ("dynamic", "nms"):
        if not isinstance(params.get(flag, False), bool):
            problems.append(f"{flag} must be true or false")
    if params.get("quantize", "fp16") not in QUANTIZE:
        problems.append(f"quantize must be one of {', '.join(QUANTIZE)} (RKNN, TensorRT)")
    for name, default in (("nms_conf", 0.25), ("nms_iou", 0.7)):
        value = params.get(name, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 1:
            problems.append(f"{name} must be a number between 0 and 1")
    batch, opset = params.get("batch", 8), params.get("opset")
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 64:
        problems.append("batch must be a whole number from 1 to 64")
    if opset is not None and not (isinstance(opset, int) and 11 <= opset <= 22):
        problems.append("opset must be from 11 to 22")
    if problems:
        raise InvalidInput("; ".join(problems), hint="`ahoy job kinds --json` lists them")
    own = {"format", "dynamic", "batch", "nms", "opset", "quantize", "nms_conf", "nms_iou"}
    measured = {k: v for k, v in params.items() if k in KNOWN - own}
    edge = fmt != "onnx"  # the device runtimes take a static, batch-1 model without NMS
    return {
        **evaluation(measured),
        "format": fmt,
        "dynamic": False if edge else params.get("dynamic", True),
        "batch": 1 if edge else batch,
        "nms": False if edge else params.get("nms", False),
        "opset": opset,
        "quantize": params.get("quantize", "fp16"),
        "nms_conf": float(params.get("nms_conf", 0.25)),
        "nms_iou": float(params.get("nms_iou", 0.7)),
    }


async def prepare(ctx: ServiceContext, ws: str, params: dict[str, Any]) -> dict[str, Any]:
    if params["format"] == "rknn":
        export_rknn.check_available()
    elif params["format"] == "tensorrt":
        tensorrt.check_available()
    pinned = await pin_target(ctx, ws, params)
    if params["format"] == "rknn" and pinned["task"] != "detect":
        raise InvalidInput(
            f"{pinned['model']} is a {pinned['task']} model; the RKNN export handles detect"
            " models for now",
            hint="export it to ONNX",
        )
    if pinned["model_format"] != "pt":
        raise InvalidInput(
            f"{pinned['model']} is already a {pinned['model_format']} export",
            hint="export from trained weights (a pt version)",
        )
    return pinned


def request(params: dict[str, Any], host: HostReading) -> ResourceRequest:
    return ResourceRequest(cpu_cores=min(2, host.cores), ram_bytes=3 * GIB, disk_bytes=2 * GIB)


async def run(job: JobHandle) -> dict[str, Any]:
    p = job.params
    source = await on_model.pin_model(job.ctx, job.ws, p["model"])
    async with holding_version(job) as scratch:
        weights = await on_model.fetch_weights(job, source, scratch / "model")
        images = on_model.SplitImages(scratch / "images")
        await images.load(job, p["dataset"], p["version"], p["split"])
        number = await registry.next_number(job.ctx, job.ws, source["model"])
        onnx_path, made = await _export(job, source, weights, scratch, number)
        exported, simulated = onnx_path, None
        if p["format"] == "rknn":
            exported, simulated = onnx_path.with_suffix(".rknn"), scratch / "simulated"
            made["rknn"] = await export_rknn.convert(job, onnx_path, exported, images, simulated)
            made["tools"]["rknn-toolkit2"] = made["rknn"].get("toolkit")
            made["output_shape"] = [o["shape"] for o in made["rknn"]["outputs"]]  # cut per stride
            await job.artifact(exported.name, exported)
        elif p["format"] == "tensorrt":
            exported = onnx_path.with_suffix(".engine")
            made["tensorrt"] = await _engine(job, onnx_path, exported)
            made["tools"]["tensorrt"] = made["tensorrt"].get("tensorrt")
            await job.artifact(exported.name, exported)
        mv, digest, size = await _register(job, source, exported, made, number)
        if p["format"] == "onnx":
            await job.artifact(exported.name, exported)
        await job.log(f"registered {mv['model']}@{mv['number']} ({p['format']}, {size} bytes)")
        parity = await _parity(job, source, weights, mv, exported, images, simulated)
    await job.log(describe_parity(parity))
    return {
        "model": mv["model"],
        "model_version": mv["number"],
        "source_version": source["number"],
        "format": p["format"],
        "sha256": digest,
        "size": size,
        "opset": made["opset"],
        "parity": {k: v for k, v in parity.items() if k != "per_class"},
    }


def _metadata(p: dict[str, Any], source: ModelVersion, number: int) -> dict[str, Any]:
    """What an ONNX export says about itself (as ``ahoy_<key>``): its own model
    version, and the source weights' version and digest."""
    return {
        "model": source["model"],
        "model_version": number,
        "source_version": source["number"],
        "source_sha256": source["weights_sha256"],
        "dataset_manifest_hash": p["manifest_hash"] if p.get("version_id") else "",
    }


async def _register(
    job: JobHandle, source: ModelVersion, exported: Path, made: dict[str, Any], number: int
) -> tuple[ModelVersion, str, int]:
    """Store and register the export as version ``number``, the one stamped into an
    ONNX file; when another version took that number meanwhile, stamp the next
    one and try again (RKNN and TensorRT files carry no number: any will do)."""
    p = job.params
    options = {k: p[k] for k in ("dynamic", "batch", "nms", "opset", "imgsz")}
    if p["nms"]:
        options |= {"nms_conf": p["nms_conf"], "nms_iou": p["nms_iou"]}
    if p["format"] != "onnx":
        options["quantize"] = p["quantize"]
    shapes = {k: made[k] for k in ("input_shape", "output_shape")}
    stamped = p["format"] == "onnx"
    for _ in range(REGISTER_TRIES):
        digest, size = await asyncio.to_thread(_digest, exported)
        await asyncio.to_thread(job.ctx.blobs.put_many, job.ws, [_put(exported, digest, size)])
        try:
            mv = await registry.register_export(
                job.ctx,
                job.ws,
                source=source,
                fmt=p["format"],
                weights=(digest, size),
                code={"tools": made["tools"], "exporter": "ultralytics"},
                config={**options, "opset": made["opset"], **shapes},
                run_id=job.id,
                actor=job.job["created_by"],
                number=number if stamped else None,
            )
            return mv, digest, size
        except registry.VersionTaken as taken:
            number = await registry.next_number(job.ctx, job.ws, source["model"])
            await job.log(f"{taken.message}; stamping the export as version {number}")
            await _stamp(job, exported, _metadata(p, source, number))
    raise ExportFailed(
        f"other versions of {source['model']} kept taking the export's number",
        hint="export again when fewer jobs register versions of this model",
    )


async def _stamp(job: JobHandle, onnx_path: Path, metadata: dict[str, Any]) -> None:
    spec = onnx_path.parent / "stamp.json"
    config_dir = str(job.ctx.settings.yolo_config_dir)
    spec.write_text(
        json.dumps(
            {
                "stamp_only": True,
                "output": str(onnx_path),
                "metadata": metadata,
                "config_dir": config_dir,
            }
        )
    )
    argv = [sys.executable, "-m", "appliance.export.onnx_worker", str(spec)]
    if await job.run_process(argv) != 0:
        raise ExportFailed("writing the export's version into it failed", hint="see the log")


async def _export(
    job: JobHandle, source: ModelVersion, weights: Path, scratch: Path, number: int
) -> tuple[Path, dict[str, Any]]:
    """The ONNX export (for RKNN: the static one the toolkit converts), stamped as
    version ``number`` of the model."""
    p = job.params
    output = scratch / f"{source['model']}-{source['number']}.onnx"
    spec = scratch / "export.json"
    metadata = _metadata(p, source, number)
    spec.write_text(
        json.dumps(
            {
                "weights": str(weights),
                "output": str(output),
                "imgsz": p["imgsz"],
                "dynamic": p["dynamic"],
                "batch": p["batch"],
                "nms": p["nms"],
                "nms_conf": p["nms_conf"],
                "nms_iou": p["nms_iou"],
                "opset": p["opset"],
                "metadata": metadata,
                "config_dir": str(job.ctx.settings.yolo_config_dir),
            }
        )
    )
    made: dict[str, Any] = {}

    async def on_event(event: dict[str, Any]) -> None:
        if event["kind"] == "progress":
            await job.progress(event["done"], event["total"], "steps", phase=event["phase"])
        elif event["kind"] == "result":
            made.update(event["data"])
            await job.event("export", event["data"])

    argv = [sys.executable, "-m", "appliance.export.onnx_worker", str(spec)]
    code = await job.run_process(argv, on_event=on_event)
    if code != 0 or not output.exists():
        raise ExportFailed(f"the ONNX export failed (exit {code})", hint="see the job's log")
    return output, made


async def _parity(
    job: JobHandle,
    source: ModelVersion,
    weights: Path,
    mv: ModelVersion,
    exported: Path,
    images: on_model.SplitImages,
    simulated: Path | None,
) -> dict[str, Any]:
    """Source and export measured through the same decoding on the same images."""
    p = job.params
    settings = where(p)
    found = await on_model.predict(job, weights, "pt", images, p["imgsz"], "source")
    before = await on_model.record(job, source, images, found, settings, "source")
    if simulated is not None:  # RKNN: what the toolkit's simulator gave
        found = await asyncio.to_thread(
            export_rknn.simulated_predictions, images, simulated, p["imgsz"]
        )
    else:
        found = await on_model.predict(job, exported, p["format"], images, p["imgsz"], "export")
    after = await on_model.record(job, mv, images, found, settings, p["format"])
    rules = registry.parity_rules(job.ctx.settings)
    data = f"{p['dataset']}@{p['version']} {p['split']}"
    parity = measure_parity(before["summary"], after["summary"], rules, data)
    parity["export_map50"] = after["summary"]["map50"]
    parity["evaluations"] = [before["id"], after["id"]]
    own = measurement(
        COCO,
        split=p["split"],
        images=after["summary"]["images"],
        objects=after["summary"].get("objects"),
        dataset=p["dataset"],
        version=int(p["version"]),
    )
    await registry.set_parity(job.ctx, job.ws, mv["model"], mv["number"], parity, own)
    return parity


async def _engine(job: JobHandle, onnx_path: Path, engine: Path) -> dict[str, Any]:
    """A TensorRT engine from the static ONNX, in the job's process group."""
    p = job.params
    calib = []
    if p["quantize"] == "int8":
        calib = [str(x) for x in await export_rknn.calibration(job, onnx_path.parent / "calib")]
    spec = onnx_path.parent / "tensorrt.json"
    spec.write_text(
        json.dumps(
            {
                "onnx": str(onnx_path),
                "engine": str(engine),
                "precision": p["quantize"],
                "calibration": calib,
                "imgsz": p["imgsz"],
            }
        )
    )
    made: dict[str, Any] = {}

    async def on_event(event: dict[str, Any]) -> None:
        if event["kind"] == "result":
            made.update(event["data"])
        elif event["kind"] == "progress":
            await job.progress(event["done"], event["total"], "steps", phase=event["phase"])

    argv = [sys.executable, "-m", "appliance.export.tensorrt_worker", str(spec)]
    code = await job.run_process(argv, on_event=on_event)
    if code != 0 or not engine.exists():
        raise ExportFailed(f"the TensorRT build failed (exit {code})", hint="see the job's log")
    return made


def _digest(path: Path) -> tuple[str, int]:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest(), path.stat().st_size


def _put(path: Path, digest: str, size: int) -> BlobPut:
    return BlobPut(digest, size, path=str(path))


KIND = JobKind(
    name="export",
    summary="Export trained weights (ONNX, RKNN; TensorRT where the host has it) as a"
    " registered model version, its accuracy against the source measured (the parity gate)",
    validate=validate,
    request=request,
    run=run,
    prepare=prepare,
    describe=lambda: {
        "parameters": {
            "model": "the trained weights: name or name@ref",
            "format": f"one of {', '.join(FORMATS)} (rknn and tensorrt: static, batch 1)",
            "quantize": "fp16 (default) or int8 (RKNN: calibrated on the train split)",
            "dynamic": "dynamic batch and size (default true); false: a static export",
            "batch": "the largest batch a dynamic export is checked with (default 8)",
            "nms": "NMS inside the model (default false)",
            "nms_conf": "the score threshold baked into that NMS (default 0.25; parity is"
            " measured as deployed, so a high one lowers the measured mAP)",
            "nms_iou": "the IoU threshold of that NMS (default 0.7)",
            "opset": "ONNX opset (default: the exporter's)",
            "imgsz": "input size (default: the training size)",
            "dataset": "parity data (default: what the model was trained on)",
            "version": "its version",
            "split": "parity split (default test; val when there is none)",
        }
    },
)
