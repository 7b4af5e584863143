"""`box-benchmark`: measure what this box does for the jobs it will run.

Hashing throughput on N cores (what imports and verification cost) and the data
disk's sustained write speed. It runs as a child process group like every heavy
job, so it is governed, cancellable and shows live progress: the smallest real
job, and the one the queue's own tests drive.
"""

from __future__ import annotations

import sys
from typing import Any

from appliance.domain.governor import MIB, HostReading, ResourceRequest
from appliance.errors import InvalidInput
from appliance.jobs.kinds import JobHandle, JobKind

MAX_SECONDS = 600


def validate(params: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - {"seconds", "cores"})
    seconds, cores = params.get("seconds", 5), params.get("cores", 1)
    problems = [f"unknown parameter {name!r}" for name in unknown]
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        problems.append("seconds must be a number")
    elif not 0.5 <= seconds <= MAX_SECONDS:
        problems.append(f"seconds must be between 0.5 and {MAX_SECONDS}")
    if not isinstance(cores, int) or isinstance(cores, bool) or cores < 1:
        problems.append("cores must be a whole number of at least 1")
    if problems:
        raise InvalidInput("; ".join(problems), hint='e.g. {"seconds": 5, "cores": 1}')
    return {"seconds": float(seconds), "cores": cores}


def request(params: dict[str, Any], host: HostReading) -> ResourceRequest:
    return ResourceRequest(cpu_cores=params["cores"], ram_bytes=256 * MIB, disk_bytes=256 * MIB)


async def run(job: JobHandle) -> dict[str, Any]:
    scratch = job.ctx.settings.cache_dir / "jobs" / job.id
    scratch.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}

    async def on_event(event: dict[str, Any]) -> None:
        if event["kind"] == "progress":
            await job.progress(event["done"], event["total"], "s", phase=event["phase"])
        elif event["kind"] == "result":
            result.update(event["data"])
            await job.event("metrics", event["data"])

    argv = [
        sys.executable,
        "-m",
        "appliance.jobs.box_benchmark",
        str(job.params["seconds"]),
        str(job.params["cores"]),
        str(scratch),
    ]
    try:
        code = await job.run_process(argv, on_event=on_event)
    finally:
        for leftover in scratch.glob("*"):
            leftover.unlink(missing_ok=True)
        scratch.rmdir()
    if code != 0:
        raise InvalidInput(f"the benchmark process exited with code {code}", hint="see the log")
    return result


KIND = JobKind(
    name="box-benchmark",
    summary="Hashing throughput per core and data-disk write speed",
    validate=validate,
    request=request,
    run=run,
    describe=lambda: {
        "parameters": {
            "seconds": f"how long to measure, 0.5 to {MAX_SECONDS} (default 5)",
            "cores": "processes hashing at once (default 1)",
        }
    },
)
