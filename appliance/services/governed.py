"""Jobs: submitted against the box's capacity, run by the worker process.

``submit`` refuses what can never fit (with what it needs and what the box has)
and queues the rest; the :class:`~appliance.services.scheduler.Scheduler` admits
queued jobs as capacity frees up, and the worker runs them
(:mod:`appliance.runtime.execute`). ``cancel`` ends a queued job at once and kills
a running job's whole process group.
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
from appliance.errors import JobRejected
from appliance.ports.probe import HardwareProbe
from appliance.services import idempotency
from appliance.services.context import ServiceContext
from appliance.services.idempotency import Once


def policy_of(ctx: ServiceContext) -> Policy:
    return Policy(reserved_ram=ctx.settings.reserved_ram_bytes)


async def submit(
    ctx: ServiceContext,
    ws: str,
    kind_name: str,
    params: dict[str, Any],
    actor: str,
    probe: HardwareProbe,
    once: Once | None = None,
) -> Job:
    """Queue a job that can fit on this box (JobRejected names what it needs that
    the box lacks). With ``once``, the job row and the key's answer commit together."""
    kind = ctx.kinds.get(kind_name)
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
        await idempotency.claim(uow, once)
        await uow.jobs.add(job_id, kind.name, params, actor, asdict(request), waiting)
        await uow.audit.record(actor, "job.queued", f"job:{job_id}", kind=kind.name)
        job = await uow.jobs.get(job_id)
        await idempotency.keep(uow, once, job)
        return job


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


def request_of(job: ActiveJob) -> ResourceRequest:
    return ResourceRequest(**job["request"])


async def capacity(ctx: ServiceContext, probe: HardwareProbe) -> dict[str, Any]:
    """The box now as the probe reads it, and the jobs that run and wait on it."""
    reading = await asyncio.to_thread(probe.read)  # NVML calls block
    async with ctx.catalog.scheduling() as queue:
        active = await queue.active_jobs()
    running = [j for j in active if j["state"] == states.RUNNING]
    return {
        "probe": probe.name,
        "reading": asdict(reading),
        "reserved_ram_bytes": ctx.settings.reserved_ram_bytes,
        "running": len(running),
        "queued": len(active) - len(running),
        "devices_in_use": sorted({d for j in running for d in j["devices"]}),
    }
