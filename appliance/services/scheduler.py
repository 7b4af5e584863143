"""The scheduler: admits queued jobs as the box has room, first come first served.

It lives in `ahoy serve`, reads the live probe and the catalog's queued and running
jobs (box-wide), asks the governor's policy about each queued job in order, and
hands admitted ones to the worker process. It wakes on submissions, on jobs
ending, and once a second in any case (the box's load changes on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from appliance.domain import jobs as states
from appliance.domain.governor import QUEUE, REJECT, RUN, Running, decide
from appliance.domain.records import ActiveJob
from appliance.errors import ApplianceError
from appliance.ports.probe import HardwareProbe
from appliance.services.context import ServiceContext
from appliance.services.governed import kill_group, policy_of, request_of

log = logging.getLogger("ahoy.scheduler")

Dispatch = Callable[[str, str], None]


class Scheduler:
    def __init__(
        self,
        ctx: ServiceContext,
        probe: HardwareProbe,
        dispatch: Dispatch,
        interval: float = 1.0,
    ) -> None:
        self.ctx = ctx
        self.probe = probe
        self.dispatch = dispatch
        self.interval = interval
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.tick()
            except ApplianceError as exc:  # the catalog is busy or the store is down
                log.warning("scheduler: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    async def tick(self) -> list[str]:
        """One pass over the queue; returns the ids admitted."""
        async with self.ctx.catalog.scheduling() as queue:
            active = await queue.active_jobs()
        queued = [j for j in active if j["state"] == states.QUEUED]
        if not queued:
            return []
        reading = await asyncio.to_thread(self.probe.read)
        running = [
            Running(j["id"], request_of(j), tuple(j["devices"]))
            for j in active
            if j["state"] == states.RUNNING
        ]
        policy = policy_of(self.ctx)
        admitted: list[str] = []
        ahead = 0
        for job in queued:
            d = decide(request_of(job), reading, running, ahead, policy)
            if d.verdict == RUN and await self._admit(job, d.as_dict(), list(d.devices)):
                running.append(Running(job["id"], request_of(job), d.devices))
                admitted.append(job["id"])
            elif d.verdict == QUEUE:
                ahead += 1
                if job["admission"] != d.as_dict():
                    await self._set(job, admission=d.as_dict())
            elif d.verdict == REJECT:  # the box lost capacity (a GPU went away)
                await self._fail(job, {"code": "job-rejected", "detail": d.reason, "hint": ""})
        return admitted

    async def _admit(self, job: ActiveJob, admission: dict[str, Any], devices: list[str]) -> bool:
        async with self.ctx.catalog.writing(job["workspace"]) as uow:
            if (await uow.jobs.get(job["id"]))["state"] != states.QUEUED:
                return False  # cancelled meanwhile
            await uow.jobs.update(
                job["id"],
                state=states.RUNNING,
                started_at=time.time(),
                devices=devices,
                admission=admission,
            )
            await uow.audit.record("scheduler", "job.admitted", f"job:{job['id']}", devices=devices)
        try:
            await asyncio.to_thread(self.dispatch, job["workspace"], job["id"])
        except Exception as exc:  # the queue file is unwritable: say so on the job
            error = {"code": "internal-error", "detail": f"could not dispatch: {exc!r}", "hint": ""}
            await self._fail(job, error)
            return False
        return True

    async def _set(self, job: ActiveJob, **fields: Any) -> None:
        async with self.ctx.catalog.writing(job["workspace"]) as uow:
            await uow.jobs.update(job["id"], **fields)

    async def _fail(self, job: ActiveJob, error: dict[str, str], **fields: Any) -> bool:
        """Fail a job this pass saw queued or running, unless it ended since (the
        worker finished it, or it was cancelled): an ended job keeps its end."""
        async with self.ctx.catalog.writing(job["workspace"]) as uow:
            if not states.can_move((await uow.jobs.get(job["id"]))["state"], states.FAILED):
                return False
            await uow.jobs.update(
                job["id"], state=states.FAILED, error=error, finished_at=time.time(), **fields
            )
        return True

    async def fail_running(self, why: str) -> int:
        """The worker died (or the appliance restarted): kill what its jobs left
        running and fail them, so no job shows "running" that is not. Queued jobs
        never started: they stay queued for the next pass."""
        async with self.ctx.catalog.scheduling() as queue:
            active = await queue.active_jobs()
        failed = 0
        for job in (j for j in active if j["state"] == states.RUNNING):
            if job["pgid"]:
                await kill_group(job["pgid"], grace=1.0)
            error = {"code": "interrupted", "detail": why, "hint": "submit it again"}
            failed += await self._fail(job, error, pgid=None)
        return failed
