"""Governed jobs: submitted against the box's capacity, run by the worker process.

``submit`` refuses what can never fit (with what it needs and what the box has)
and queues the rest; the :class:`~appliance.services.scheduler.Scheduler` admits
queued jobs as capacity frees up. ``cancel`` ends a queued job at once and kills a
running job's whole process group. ``execute`` is what the worker runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import time
from dataclasses import asdict
from typing import Any

import psutil

from appliance.domain import jobs as states
from appliance.domain.governor import HostReading, Policy, ResourceRequest, never_fits
from appliance.domain.records import ActiveJob, Job
from appliance.errors import ApplianceError, JobRejected
from appliance.jobs.handle import JobCancelled, JobHandle
from appliance.jobs.kinds import kind_of
from appliance.ports.probe import HardwareProbe
from appliance.services.context import ServiceContext


def policy_of(ctx: ServiceContext) -> Policy:
    return Policy(reserved_ram=ctx.settings.reserved_ram_bytes)


async def submit(
    ctx: ServiceContext,
    ws: str,
    kind_name: str,
    params: dict[str, Any],
    actor: str,
    probe: HardwareProbe,
) -> Job:
    kind = kind_of(kind_name)
    params = kind.validate(params)
    if kind.prepare is not None:
        params = await kind.prepare(ctx, ws, params)
    reading: HostReading = await asyncio.to_thread(probe.read)
    request = kind.request(params, reading)
    why = never_fits(request, reading, policy_of(ctx))
    if why:
        async with ctx.catalog.writing(ws) as uow:
            await uow.audit.record(actor, "job.rejected", f"kind:{kind.name}", "denied", reason=why)
        raise JobRejected(kind.name, why, needed=asdict(request))
    job_id = secrets.token_hex(8)
    waiting = {"verdict": "queue", "reason": "waiting for the scheduler", "position": 0}
    async with ctx.catalog.writing(ws) as uow:
        await uow.jobs.add(job_id, kind.name, params, actor, asdict(request), waiting)
        await uow.audit.record(actor, "job.queued", f"job:{job_id}", kind=kind.name)
        return await uow.jobs.get(job_id)


async def cancel(ctx: ServiceContext, ws: str, job_id: str, actor: str) -> Job:
    """Queued: cancelled now. Running: its process group gets SIGTERM, then SIGKILL
    after ``job_cancel_grace``; the worker records the end as cancelled."""
    async with ctx.catalog.writing(ws) as uow:
        job = await uow.jobs.get(job_id)
        effect = states.cancel_effect(job["state"])
        if effect == states.CANCELLED:
            await uow.jobs.update(job_id, state=states.CANCELLED, finished_at=time.time())
        elif effect == "kill":
            await uow.jobs.update(job_id, cancel_requested_at=time.time())
        if effect != "none":
            await uow.audit.record(actor, "job.cancel", f"job:{job_id}", state=job["state"])
        job = await uow.jobs.get(job_id)
    if effect == "kill" and job["pgid"]:
        await kill_group(job["pgid"], ctx.settings.job_cancel_grace)
    return job


async def kill_group(pgid: int, grace: float) -> None:
    """SIGTERM the group, wait up to ``grace`` seconds, then SIGKILL what is left and
    wait until none of it runs (a killed process may stay a zombie until its new
    parent reaps it; it runs nothing, so it does not count)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while live_members(pgid) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while live_members(pgid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies."""
    alive = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return alive


async def execute(ctx: ServiceContext, ws: str, job_id: str) -> str:
    """Run an admitted job to its end state (in the worker process); returns it."""
    async with ctx.catalog.reading(ws) as uow:
        job = await uow.jobs.get(job_id)
    if job["state"] != states.RUNNING:
        return str(job["state"])  # cancelled between admission and pickup
    handle = JobHandle(ctx, ws, job)
    fields: dict[str, Any]
    try:
        result = await kind_of(job["kind"]).run(handle)
    except JobCancelled:
        fields = {"state": states.CANCELLED}
    except ApplianceError as exc:
        fields = {"state": states.FAILED, "error": _error(exc.code, exc.message, exc.hint)}
    except Exception as exc:  # a job must end in a state, whatever broke
        fields = {"state": states.FAILED, "error": _error("internal-error", repr(exc), "")}
    else:
        fields = {"state": states.SUCCEEDED, "result": result}
    with contextlib.suppress(ApplianceError):
        await handle.flush()
    if fields["state"] == states.FAILED and await handle.cancel_requested():
        fields = {"state": states.CANCELLED}
    async with ctx.catalog.writing(ws) as uow:
        await uow.jobs.update(job_id, finished_at=time.time(), pgid=None, **fields)
        await uow.audit.record(job["created_by"], f"job.{fields['state']}", f"job:{job_id}")
    return str(fields["state"])


def _error(code: str, detail: str, hint: str) -> dict[str, str]:
    return {"code": code, "detail": detail, "hint": hint}


def request_of(job: ActiveJob) -> ResourceRequest:
    return ResourceRequest(**job["request"])
