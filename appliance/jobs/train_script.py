"""`train-script`: the user's own training script, run in a sandbox (script mode).

At submission the script (and its requirements.txt, if any) must have been
uploaded (``PUT /blobs/{sha256}``), the script must compile, every requirement
must be met by what the appliance already has installed (nothing is installed at
run time), this box must be able to make the sandbox, and the dataset version
is pinned. In the worker the version is held, laid out as a YOLO dataset in its
frozen split, and the script runs sandboxed (appliance/sandbox): no network, the
dataset read-only at /data, writes only to /out, limits on memory, CPU, time,
files and processes. What it leaves in /out must keep the contract
(script_contract); the weights then become a model version tied to the data, the
run and the script's hash.
"""

from __future__ import annotations

import asyncio
import json
import platform
from pathlib import Path
from typing import Any

from appliance.domain.canonical import is_sha256_hex
from appliance.domain.governor import GIB, MIB, HostReading, ResourceRequest
from appliance.errors import ApplianceError, BlobsNotUploaded, InvalidInput
from appliance.jobs import script_contract as contract
from appliance.jobs import script_sandbox as box
from appliance.jobs.handle import JobCancelled
from appliance.jobs.kinds import JobHandle, JobKind
from appliance.jobs.on_version import (
    dataset_problems,
    holding_version,
    pin_version,
    register_model,
)
from appliance.sandbox import bwrap, requirements
from appliance.sandbox import run as sandbox
from appliance.services import registry
from appliance.services.context import ServiceContext
from appliance.services.materialize import write_yolo

KNOWN = {
    "dataset",
    "version",
    "script",
    "requirements",
    "name",
    "task",
    "cpu_cores",
    "ram_bytes",
    "timeout_s",
    "params",
}
MAX_SCRIPT_BYTES = 1 << 20
MAX_PARAMS_BYTES = 64 << 10
MAX_CORES = 256
RAM_RANGE = (512 * MIB, 1 << 40)
TIMEOUT_RANGE = (1.0, 7 * 24 * 3600.0)
DEFAULTS = {"cpu_cores": 1, "ram_bytes": 4 * GIB, "timeout_s": 3600.0}
OUTPUT_BYTES = 4 * GIB


class ScriptFailed(ApplianceError):
    code = "script-failed"


def validate(params: dict[str, Any]) -> dict[str, Any]:
    problems = [f"unknown parameter {n!r}" for n in sorted(set(params) - KNOWN)]
    problems += dataset_problems(params)
    for key in ("script", "requirements"):
        value = params.get(key)
        if (key == "script" or value is not None) and not (
            isinstance(value, str) and is_sha256_hex(value)
        ):
            problems.append(f"{key} must be the sha256 (64 hex digits) of an uploaded file")
    task = params.get("task", "detect")
    if task not in registry.TASKS:
        problems.append(f"task must be one of {', '.join(registry.TASKS)}")
    cores = params.get("cpu_cores", DEFAULTS["cpu_cores"])
    if not _whole(cores) or not 1 <= cores <= MAX_CORES:
        problems.append(f"cpu_cores must be a whole number from 1 to {MAX_CORES}")
    ram = params.get("ram_bytes", DEFAULTS["ram_bytes"])
    if not _whole(ram) or not RAM_RANGE[0] <= ram <= RAM_RANGE[1]:
        problems.append(f"ram_bytes must be a whole number from {RAM_RANGE[0]} to {RAM_RANGE[1]}")
    timeout = params.get("timeout_s", DEFAULTS["timeout_s"])
    if not _number(timeout) or not TIMEOUT_RANGE[0] <= timeout <= TIMEOUT_RANGE[1]:
        problems.append(f"timeout_s must be {TIMEOUT_RANGE[0]:g} to {TIMEOUT_RANGE[1]:g} seconds")
    extra = params.get("params") or {}
    if not isinstance(extra, dict):
        problems.append("params must be an object (the script reads it as /job/params.json)")
    elif len(json.dumps(extra)) > MAX_PARAMS_BYTES:
        problems.append(f"params must be under {MAX_PARAMS_BYTES} bytes of JSON")
    if problems:
        raise InvalidInput("; ".join(problems), hint="see `ahoy train-script --help`")
    return {
        "dataset": params["dataset"],
        "version": str(params.get("version", "latest")),
        "script": params["script"],
        "requirements": params.get("requirements"),
        "name": params.get("name") or params["dataset"],
        "task": task,
        "cpu_cores": cores,
        "ram_bytes": ram,
        "timeout_s": float(timeout),
        "params": extra,
    }


def _whole(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


async def prepare(ctx: ServiceContext, ws: str, params: dict[str, Any]) -> dict[str, Any]:
    """Refuse now what could only fail later: no sandbox on this box, a script not
    uploaded or not Python, a requirement not met. Pin the dataset version."""
    registry.check_name(params["name"])
    await asyncio.to_thread(bwrap.check)
    wanted = {params["script"], *([params["requirements"]] if params["requirements"] else [])}
    missing = await asyncio.to_thread(ctx.blobs.missing, ws, wanted)
    if missing:
        raise BlobsNotUploaded(
            [
                (k, f"sha256:{params[k]} was not uploaded")
                for k in ("script", "requirements")
                if params[k] in missing
            ],
            sorted(missing),
        )
    source = await asyncio.to_thread(ctx.blobs.read, ws, params["script"])
    _check_script(source)
    met: dict[str, str] = {}
    if params["requirements"]:
        text = await asyncio.to_thread(ctx.blobs.read, ws, params["requirements"])
        met = requirements.check(text.decode("utf-8", "replace"))
    return {**await pin_version(ctx, ws, params), "libraries": met}


def _check_script(source: bytes) -> None:
    if len(source) > MAX_SCRIPT_BYTES:
        raise InvalidInput(f"the script is larger than {MAX_SCRIPT_BYTES} bytes")
    try:
        compile(source, "train.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, SyntaxError) and exc.lineno else ""
        raise InvalidInput(f"the script is not valid Python{where}: {exc}") from None


def limits_of(params: dict[str, Any]) -> sandbox.Limits:
    ram = params["ram_bytes"]
    return sandbox.Limits(
        cpu_cores=params["cpu_cores"],
        ram_bytes=ram,
        timeout_s=params["timeout_s"],
        output_bytes=OUTPUT_BYTES,
        tmp_bytes=min(256 * MIB, ram // 4),
    )


def request(params: dict[str, Any], host: HostReading) -> ResourceRequest:
    limits = limits_of(params)
    return ResourceRequest(
        cpu_cores=limits.cpu_cores,
        ram_bytes=limits.ram_bytes + 2 * limits.tmp_bytes,  # /tmp and /dev/shm are memory
        disk_bytes=limits.output_bytes,
    )


async def run(job: JobHandle) -> dict[str, Any]:
    async with holding_version(job) as scratch:
        return await _train(job, scratch)


async def _train(job: JobHandle, scratch: Path) -> dict[str, Any]:
    p = job.params
    await job.log(f"laying out {p['dataset']}@{p['version']} ({p['task']}) in its frozen split")
    data = scratch / "data"
    await write_yolo(job.ctx, job.ws, p["dataset"], p["version"], p["task"], data)
    yaml = data / "data.yaml"
    if yaml.exists():  # the path the script sees
        yaml.write_text(yaml.read_text().replace(f"path: {data.resolve()}\n", "path: /data\n", 1))
    layout, uid = await asyncio.to_thread(box.job_dir, job, scratch)
    code = {"script/train.py": p["script"]}
    if p["requirements"]:
        code["script/requirements.txt"] = p["requirements"]
    limits = limits_of(p)
    heard = box.Listener(job)
    exe = bwrap.check()
    await job.log(f"running the script in the sandbox ({bwrap.version(exe)}): {box.said(limits)}")
    try:
        outcome = await sandbox.run(
            layout, limits, env=box.env(limits), on_line=heard.line, on_start=job.set_pgid, uid=uid
        )
        await job.flush()
        if await job.cancel_requested():
            raise JobCancelled("the run was cancelled")
        # whatever it left is kept, also when it failed: what a user needs to see why
        stored, refused = await _keep_outputs(job, layout.output)
    finally:
        # the code it ran, kept under the job (so GC keeps it as long as the run is
        # listed) from the appliance's own copy: after and apart from the outputs,
        # which may not use these names
        for name, sha in code.items():
            await job.artifact_of_blob(name, sha)
    if outcome.limit is not None:
        raise ScriptFailed(
            f"the script was stopped: it reached {limits.describe(outcome.limit)}",
            hint=_LIMIT_HINTS[outcome.limit],
        )
    if outcome.setup_failed:
        raise ScriptFailed("the sandbox could not be set up", hint="see the job's log")
    if outcome.exit_code != 0:
        raise ScriptFailed(
            f"the script failed (exit code {outcome.exit_code})",
            hint="see the job's log for its output" + (f": {heard.last}" if heard.last else ""),
        )
    delivered = await asyncio.to_thread(contract.check, layout.output)
    weights = stored[delivered.weights.relative_to(layout.output).as_posix()]
    lineage = {
        "script_sha256": p["script"],
        "requirements_sha256": p["requirements"],
        "libraries": p.get("libraries") or {},
        "python": platform.python_version(),
        "sandbox": bwrap.version(exe),
    }
    base = await register_model(
        job,
        task=p["task"],
        weights=weights,
        metrics=delivered.metrics,
        code=lineage,
        config={"params": p["params"], "limits": box.as_config(limits)},
    )
    return {
        **base,
        "onnx": delivered.onnx is not None,
        "seconds": outcome.seconds,
        "peak_memory_bytes": outcome.peak_memory,
        "artifacts": sorted([*code, *stored]),
        "refused_outputs": refused,
    }


async def _keep_outputs(
    job: JobHandle, out: Path
) -> tuple[dict[str, dict[str, Any]], list[dict[str, str]]]:
    """The regular files under /out, stored as the job's artifacts; those under a
    name they may not have (``contract.refusal``) are refused, each said in the log."""
    files = await asyncio.to_thread(contract.regular_files, out)
    stored: dict[str, dict[str, Any]] = {}
    refused: list[dict[str, str]] = []
    for rel, path in files.items():
        why = contract.refusal(rel)
        if why is None:
            stored[rel] = await job.artifact(rel, path)
            continue
        shown = ascii(f"/out/{rel}")  # escaped: the name itself may not show as it is
        refused.append({"name": shown, "reason": why})
        await job.log(f"not kept: {shown}: {why}; write it under another name")
    return stored, refused


_LIMIT_HINTS = {
    sandbox.TIME: "ask for a longer timeout_s, or train for fewer epochs",
    sandbox.MEMORY: "ask for more ram_bytes, or use a smaller batch or image size",
    sandbox.CPU: "ask for more cpu_cores or a longer timeout_s",
    sandbox.FILE_SIZE: f"keep each file under {OUTPUT_BYTES} bytes",
    sandbox.OUTPUT_SIZE: f"keep what the script writes to /out under {OUTPUT_BYTES} bytes",
}


def describe() -> dict[str, Any]:
    """The parameters, the contract, and what a script can import (name → version)."""
    return {
        "parameters": {
            "dataset": "the dataset's name (required)",
            "version": "a version number, vN, tag or latest (pinned when submitted)",
            "script": "sha256 of the uploaded training script (PUT /blobs/{sha256})",
            "requirements": "sha256 of an uploaded requirements.txt (optional): every line"
            " must be met by what the appliance has installed",
            "name": "the model to register the weights under (default: the dataset's name)",
            "task": f"one of {', '.join(registry.TASKS)} (default detect)",
            "cpu_cores": f"cores, 1 to {MAX_CORES} (default {DEFAULTS['cpu_cores']})",
            "ram_bytes": f"memory limit in bytes (default {DEFAULTS['ram_bytes']})",
            "timeout_s": f"wall-clock limit in seconds (default {DEFAULTS['timeout_s']:g})",
            "params": "an object the script reads from /job/params.json",
        },
        "contract": {
            "reads": {
                "/data": "the dataset (data.yaml, images/, labels/)",
                "/job": "train.py, params.json, requirements.txt",
            },
            "writes": {
                "/out/weights.pt": "the weights (or /out/best.pt): required",
                "/out/metrics.json": "a JSON object of numbers: required",
                "/out/model.onnx": "optional",
            },
            "events": '@ahoy {"kind": "epoch", "epoch": 1, "epochs": 10, ...} on stdout',
        },
        "libraries": requirements.offered(),
        "sandbox": bwrap.status(),
    }


KIND = JobKind(
    name="train-script",
    summary="Run your own training script, sandboxed, on a frozen dataset version",
    validate=validate,
    request=request,
    run=run,
    prepare=prepare,
    describe=describe,
)
