"""Long work as jobs: a row in the catalog with state, progress and result, run in
the background, with live events for anyone watching.

This runner executes jobs as tasks of the serving process; the huey-backed
runner (training, export) will implement the same ``submit``/``watch`` surface.
A restart never leaves a job "running": ``recover`` fails whatever was cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from appliance.domain.records import Job
from appliance.errors import ApplianceError
from appliance.services.context import ServiceContext
from appliance.services.job_watch import poll_watch

TERMINAL = ("succeeded", "failed", "cancelled")
#: Progress events are coalesced to at most this many writes per second per job.
PROGRESS_HZ = 4.0

Report = Callable[[int, int, str], None]
Work = Callable[[Report], Awaitable[dict[str, Any]]]


class JobRunner:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.watchers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self.pending: set[asyncio.Future[None]] = set()

    async def recover(self) -> int:
        """Fail the jobs a previous process left queued or running."""
        async with self.ctx.catalog.accounts(write=True) as acc:
            return await acc.jobs.fail_interrupted("the appliance restarted while it ran")

    async def submit(
        self, ws: str, kind: str, params: dict[str, Any], actor: str, work: Work
    ) -> Job:
        job_id = secrets.token_hex(8)
        async with self.ctx.catalog.writing(ws) as uow:
            await uow.jobs.add(job_id, kind, params, actor)
            await uow.audit.record(actor, "job.queued", f"job:{job_id}", kind=kind)
            job = await uow.jobs.get(job_id)
        self.tasks[job_id] = asyncio.create_task(self._run(ws, job_id, kind, actor, work))
        return job

    async def _run(self, ws: str, job_id: str, kind: str, actor: str, work: Work) -> None:
        await self._update(ws, job_id, "state", state="running", started_at=time.time())
        last = 0.0

        def report(done: int, total: int, unit: str) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < 1 / PROGRESS_HZ and done < total:
                return
            last = now
            progress = {"done": done, "total": total, "unit": unit}
            # Work may report from a worker thread: hop onto the loop first.
            loop.call_soon_threadsafe(self._progress, ws, job_id, progress)

        loop = asyncio.get_running_loop()
        try:
            result = await work(report)
        except ApplianceError as exc:
            error = {"code": exc.code, "detail": exc.message, "hint": exc.hint}
            await self._finish(ws, job_id, kind, actor, "failed", error=error)
        except Exception as exc:  # a job must end in a state, whatever broke
            error = {"code": "internal-error", "detail": f"{type(exc).__name__}: {exc}"}
            await self._finish(ws, job_id, kind, actor, "failed", error=error)
        else:
            await self._finish(ws, job_id, kind, actor, "succeeded", result=result)
        finally:
            self.tasks.pop(job_id, None)

    def _progress(self, ws: str, job_id: str, progress: dict[str, Any]) -> None:
        self._publish(job_id, {"event": "progress", "progress": progress})
        task = asyncio.ensure_future(self._save_progress(ws, job_id, progress))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _save_progress(self, ws: str, job_id: str, progress: dict[str, Any]) -> None:
        with contextlib.suppress(ApplianceError):
            async with self.ctx.catalog.writing(ws) as uow:
                await uow.jobs.update(job_id, progress=progress)

    async def _finish(
        self, ws: str, job_id: str, kind: str, actor: str, state: str, **fields: Any
    ) -> None:
        async with self.ctx.catalog.writing(ws) as uow:
            await uow.jobs.update(job_id, state=state, finished_at=time.time(), **fields)
            await uow.audit.record(actor, f"job.{state}", f"job:{job_id}", kind=kind)
            job = await uow.jobs.get(job_id)
        self._publish(job_id, {"event": "state", "job": job})

    async def _update(self, ws: str, job_id: str, event: str, **fields: Any) -> None:
        async with self.ctx.catalog.writing(ws) as uow:
            await uow.jobs.update(job_id, **fields)
            job = await uow.jobs.get(job_id)
        self._publish(job_id, {"event": event, "job": job})

    def _publish(self, job_id: str, message: dict[str, Any]) -> None:
        for queue in self.watchers.get(job_id, ()):
            queue.put_nowait(message)

    async def watch(self, ws: str, job_id: str, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """The job now, then each change until it ends (``{"event", ...}`` dicts);
        for a governed job, its recorded events after sequence number ``after``."""
        async with self.ctx.catalog.reading(ws) as uow:
            governed = (await uow.jobs.get(job_id))["request"] is not None
        if governed:  # it runs in the worker process: read its changes back
            async for message in poll_watch(self.ctx, ws, job_id, after=after):
                yield message
            return
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.watchers.setdefault(job_id, set()).add(queue)
        try:
            async with self.ctx.catalog.reading(ws) as uow:
                job = await uow.jobs.get(job_id)
            yield {"event": "state", "job": job}
            if job["state"] in TERMINAL:
                return
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield {"event": "ping"}
                    continue
                yield message
                if message["event"] == "state" and message["job"]["state"] in TERMINAL:
                    return
        finally:
            self.watchers[job_id].discard(queue)
            if not self.watchers[job_id]:
                del self.watchers[job_id]

    async def drain(self, timeout: float = 10) -> None:
        """Let running jobs finish (on shutdown); what does not is failed by ``recover``."""
        if self.tasks:
            await asyncio.wait(list(self.tasks.values()), timeout=timeout)
