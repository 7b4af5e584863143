"""`gc`: reclaim the blobs nothing has referenced for the grace period (see
:func:`appliance.services.gc.collect`). Light work: one core, a little RAM."""

from __future__ import annotations

from typing import Any

from appliance.domain.governor import MIB, HostReading, ResourceRequest
from appliance.errors import InvalidInput
from appliance.jobs.kinds import JobHandle, JobKind
from appliance.services import gc

MAX_GRACE = 2**63 - 1


def validate(params: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(params) - {"grace_seconds", "dry_run"})
    grace, dry_run = params.get("grace_seconds"), params.get("dry_run", False)
    problems = [f"unknown parameter {name!r}" for name in unknown]
    if grace is not None and (
        not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= MAX_GRACE
    ):
        problems.append("grace_seconds must be a whole number of seconds, 0 or more")
    if not isinstance(dry_run, bool):
        problems.append("dry_run must be true or false")
    if problems:
        raise InvalidInput("; ".join(problems), hint='e.g. {"grace_seconds": 0, "dry_run": true}')
    return {"grace_seconds": grace, "dry_run": dry_run}


def request(params: dict[str, Any], host: HostReading) -> ResourceRequest:
    return ResourceRequest(cpu_cores=1, ram_bytes=256 * MIB)


async def run(job: JobHandle) -> dict[str, Any]:
    p = job.params
    report = await gc.collect(
        job.ctx, job.ws, job.job["created_by"], p["grace_seconds"], p["dry_run"]
    )
    return report.as_dict()


KIND = JobKind(
    name="gc",
    summary="Reclaim blobs nothing has referenced for the grace period",
    validate=validate,
    request=request,
    run=run,
    describe=lambda: {
        "parameters": {
            "grace_seconds": "seconds a blob must be unreferenced (default: the setting)",
            "dry_run": "only report what would be reclaimed (default false)",
        }
    },
)
