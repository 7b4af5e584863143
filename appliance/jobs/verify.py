"""`verify`: check that every file the catalog knows resolves to a blob, and with
``deep`` that each reads back intact (see :func:`appliance.services.gc.verify`).
Light work: one core, a little RAM."""

from __future__ import annotations

from typing import Any

from appliance.domain.governor import MIB, HostReading, ResourceRequest
from appliance.errors import InvalidInput
from appliance.jobs.kinds import JobHandle, JobKind
from appliance.services import gc


def validate(params: dict[str, Any]) -> dict[str, Any]:
    problems = [f"unknown parameter {name!r}" for name in sorted(set(params) - {"deep"})]
    deep = params.get("deep", False)
    if not isinstance(deep, bool):
        problems.append("deep must be true or false")
    if problems:
        raise InvalidInput("; ".join(problems), hint='e.g. {"deep": true}')
    return {"deep": deep}


def request(params: dict[str, Any], host: HostReading) -> ResourceRequest:
    return ResourceRequest(cpu_cores=1, ram_bytes=256 * MIB)


async def run(job: JobHandle) -> dict[str, Any]:
    return (await gc.verify(job.ctx, job.ws, job.params["deep"])).as_dict()


KIND = JobKind(
    name="verify",
    summary="Check that every stored file resolves to an intact blob",
    validate=validate,
    request=request,
    run=run,
    describe=lambda: {"parameters": {"deep": "read back and re-hash every blob (default false)"}},
)
