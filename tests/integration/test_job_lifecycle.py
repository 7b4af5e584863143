"""Jobs on the real SQLite catalog: the state machine is enforced where states are
written, and a job's end recorded elsewhere is never overwritten."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from appliance.adapters.probe.fixed import FixedProbe
from appliance.bootstrap import open_services
from appliance.domain.governor import GIB, MIB, HostReading, ResourceRequest
from appliance.domain.jobs import IllegalMove
from appliance.errors import NotFound
from appliance.jobs.kinds import JobHandle, JobKind, JobKinds, registry
from appliance.runtime.execute import execute
from appliance.services import governed
from appliance.services.context import ServiceContext
from appliance.services.scheduler import Scheduler
from appliance.settings import Settings

pytestmark = pytest.mark.integration

T = TypeVar("T")
WS = "default"
ONE_CORE = HostReading(cores=1, ram_total=64 * GIB, ram_available=60 * GIB, disk_free=50 * GIB)
SMALL = {"cpu_cores": 1, "ram_bytes": 256 * MIB, "gpus": 0, "vram_mib": 0, "disk_bytes": 0}


def run(settings: Settings, fn: Callable[[ServiceContext], Awaitable[T]]) -> T:
    async def main() -> T:
        async with open_services(settings, kinds=registry()) as ctx:
            return await fn(ctx)

    return asyncio.run(main())


def scheduler(ctx: ServiceContext, dispatched: list[str] | None = None) -> Scheduler:
    sink = dispatched if dispatched is not None else []
    return Scheduler(ctx, FixedProbe(ONE_CORE), lambda ws, job_id: sink.append(job_id))


async def job_of(ctx: ServiceContext, job_id: str, ws: str = WS) -> dict[str, Any]:
    async with ctx.catalog.reading(ws) as uow:
        return await uow.get_job(job_id)


def test_an_illegal_move_is_refused_by_the_catalog(local_settings: Settings) -> None:
    async def main(ctx: ServiceContext) -> None:
        async with ctx.catalog.writing(WS) as uow:
            await uow.add_job("j1", "verify", {"deep": False}, "alice", SMALL)
            await uow.add_job("j2", "verify", {"deep": False}, "alice", SMALL)
        with pytest.raises(IllegalMove, match="cannot move from queued to succeeded"):
            async with ctx.catalog.writing(WS) as uow:
                await uow.update_job("j2", state="succeeded", result={"ok": True})
        async with ctx.catalog.writing(WS) as uow:
            await uow.update_job("j1", state="running", started_at=time.time())
            await uow.update_job("j1", state="succeeded", result={"ok": True})
        with pytest.raises(IllegalMove, match="cannot move from succeeded to running") as err:
            async with ctx.catalog.writing(WS) as uow:
                await uow.update_job("j1", state="running", started_at=1.0)
        assert err.value.code == "illegal-job-move" and "it has ended" in err.value.hint
        one, two = await job_of(ctx, "j1"), await job_of(ctx, "j2")
        assert one["state"] == "succeeded" and one["started_at"] != 1.0
        assert two["state"] == "queued" and two["result"] is None  # nothing of it was written
        with pytest.raises(NotFound):  # scoped: another workspace's job is not there
            async with ctx.catalog.writing("other") as uow:
                await uow.update_job("j2", state="cancelled")
        async with ctx.catalog.writing(WS) as uow:  # what is not a state still changes
            await uow.update_job("j1", progress={"done": 1, "total": 1, "unit": "files"})

    run(local_settings, main)


def test_a_job_failed_while_it_ran_keeps_that_end(local_settings: Settings) -> None:
    """The worker was cut off (serve failed its jobs) but its run still returned:
    the success it would record is an illegal move, and is not recorded."""

    async def cut_off(handle: JobHandle) -> dict[str, Any]:
        await Scheduler(handle.ctx, FixedProbe(ONE_CORE), print).fail_running("serve restarted")
        return {"done": True}

    kind = JobKind(
        name="cut-off",
        summary="fails itself from outside while it runs",
        validate=lambda p: p,
        request=lambda p, host: ResourceRequest(cpu_cores=1, ram_bytes=256 * MIB),
        run=cut_off,
    )

    async def main(ctx: ServiceContext) -> None:
        ctx = dataclasses.replace(ctx, kinds=JobKinds([kind]))
        job = await governed.submit(ctx, WS, "cut-off", {}, "alice", FixedProbe(ONE_CORE))
        await scheduler(ctx).tick()
        assert await execute(ctx, WS, job["id"]) == "failed"
        ended = await job_of(ctx, job["id"])
        assert ended["state"] == "failed" and ended["result"] is None
        assert ended["error"]["detail"] == "serve restarted"

    run(local_settings, main)
