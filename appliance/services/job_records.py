"""The jobs of a workspace, and what each left behind: the events it recorded and
the files it made.

Each answers for a job of this workspace only; any other job (of another
workspace, or none) is not found."""

from __future__ import annotations

from typing import Any

from appliance.domain.records import Job
from appliance.services.context import ServiceContext


async def list_all(ctx: ServiceContext, ws: str, limit: int = 10_000) -> list[Job]:
    """Newest first."""
    async with ctx.catalog.reading(ws) as uow:
        return await uow.jobs.list(limit=limit)


async def show(ctx: ServiceContext, ws: str, job_id: str) -> Job:
    async with ctx.catalog.reading(ws) as uow:
        return await uow.jobs.get(job_id)


async def log(
    ctx: ServiceContext, ws: str, job_id: str, after: int = 0, kind: str | None = None
) -> dict[str, Any]:
    async with ctx.catalog.reading(ws) as uow:
        await uow.jobs.get(job_id)  # NotFound unless it is this workspace's
        events = await uow.jobs.events(job_id, after=after, kinds=(kind,) if kind else ())
    return {"job": job_id, "events": events, "last": events[-1]["seq"] if events else after}


async def artifacts(ctx: ServiceContext, ws: str, job_id: str) -> dict[str, Any]:
    async with ctx.catalog.reading(ws) as uow:
        await uow.jobs.get(job_id)
        return {"job": job_id, "artifacts": await uow.jobs.artifacts(job_id)}
