"""The job handle of the worker: progress, events, artifacts, child processes.

It implements :class:`appliance.ports.jobs.JobHandle`. Everything a job reports
goes to the catalog, where `ahoy serve` reads it for the API and the live
streams. Writes are batched (a few per second at most), so a chatty job cannot
flood the single SQLite writer.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from appliance import child_events
from appliance.domain.records import Job
from appliance.errors import ApplianceError
from appliance.ports.blobstore import BlobPut
from appliance.services.context import ServiceContext

FLUSH_SECONDS = 0.25


class JobCancelled(ApplianceError):
    code = "cancelled"


class CatalogJobHandle:
    def __init__(self, ctx: ServiceContext, ws: str, job: Job) -> None:
        self.ctx = ctx
        self.ws = ws
        self.job = job
        self.id: str = job["id"]
        self.params: dict[str, Any] = job["params"]
        self._events: list[tuple[str, dict[str, Any]]] = []
        self._progress: dict[str, Any] | None = None
        self._last_flush = 0.0

    # -- reporting ------------------------------------------------------------
    async def progress(self, done: int, total: int, unit: str, **extra: Any) -> None:
        self._progress = {"done": done, "total": total, "unit": unit, **extra}
        await self._maybe_flush()

    async def event(self, kind: str, data: dict[str, Any]) -> None:
        self._events.append((kind, data))
        await self._maybe_flush(force=kind != "log")

    async def log(self, line: str) -> None:
        await self.event("log", {"line": line})

    async def _maybe_flush(self, force: bool = False) -> None:
        if force or time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            await self.flush()

    async def flush(self) -> None:
        events, self._events = self._events, []
        progress, self._progress = self._progress, None
        self._last_flush = time.monotonic()
        if not events and progress is None:
            return
        async with self.ctx.catalog.writing(self.ws) as uow:
            if events:
                await uow.jobs.add_events(self.id, events)
            if progress is not None:
                await uow.jobs.update(self.id, progress=progress)

    async def cancel_requested(self) -> bool:
        async with self.ctx.catalog.reading(self.ws) as uow:
            job = await uow.jobs.get(self.id)
        return job["cancel_requested_at"] is not None

    # -- artifacts ------------------------------------------------------------
    async def artifact(self, name: str, path: Path) -> dict[str, Any]:
        """Store a file the job made as a blob and list it under ``name``."""
        sha, size = await asyncio.to_thread(_hash_file, path)
        put = BlobPut(sha, size, path=str(path))
        await asyncio.to_thread(self.ctx.blobs.put_many, self.ws, [put])
        async with self.ctx.catalog.writing(self.ws) as uow:
            await uow.jobs.add_artifact(self.id, name, sha, size)
        return {"name": name, "sha256": sha, "size": size}

    async def artifact_of_blob(self, name: str, sha256: str) -> dict[str, Any]:
        """List a blob the store already holds (read back and verified first) under
        ``name``: the appliance's own copy of something the job was given."""
        size = len(await asyncio.to_thread(self.ctx.blobs.read, self.ws, sha256))
        async with self.ctx.catalog.writing(self.ws) as uow:
            await uow.jobs.add_artifact(self.id, name, sha256, size)
        return {"name": name, "sha256": sha256, "size": size}

    # -- child processes ------------------------------------------------------
    async def set_pgid(self, pgid: int) -> None:
        """Record the process group doing the job's work: a cancel kills all of it."""
        async with self.ctx.catalog.writing(self.ws) as uow:
            await uow.jobs.update(self.id, pgid=pgid)

    async def run_process(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        on_event: Callable[[dict[str, Any]], Any] | None = None,
    ) -> int:
        """Run ``argv`` as a child speaking appliance.child_events, in its own process
        group (recorded, so a cancel from the appliance kills all of it). Each event
        on its channel goes to ``on_event`` (or is recorded as is); its stdout and
        stderr are the job's log, as is a garbled line on the channel. Returns the
        exit status; raises JobCancelled if it ended because the job was cancelled."""
        channel = child_events.Channel()
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=channel.child_env(env),
                pass_fds=channel.pass_fds,
                cwd=cwd,
                start_new_session=True,
                limit=1 << 20,
            )
        except BaseException:
            channel.close()
            raise
        lock = asyncio.Lock()  # one line or event at a time, in the order heard

        async def hear(item: str | child_events.Heard) -> None:
            async with lock:
                if isinstance(item, str):
                    await self.log(item)
                elif isinstance(item, child_events.Garbled):
                    await self.log(item.as_log())
                elif on_event is not None:
                    result = on_event(item.body)
                    if asyncio.iscoroutine(result):
                        await result
                else:
                    await self.event(str(item.body.pop("kind", "event")), item.body)

        async def logs(stream: asyncio.StreamReader) -> None:
            async for raw in stream:
                await hear(raw.decode("utf-8", "replace").rstrip("\n"))

        async def events(pipe: BinaryIO) -> None:
            async for heard in child_events.aread(pipe):
                await hear(heard)

        assert proc.stdout is not None
        with channel.parent_end() as pipe:
            readers = [asyncio.create_task(logs(proc.stdout)), asyncio.create_task(events(pipe))]
            try:
                await self.set_pgid(proc.pid)
                await asyncio.gather(*readers)
            finally:
                for reader in readers:
                    reader.cancel()
        code = await proc.wait()
        await self.flush()
        if code != 0 and await self.cancel_requested():
            raise JobCancelled("the job was cancelled")
        return code


def _hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size
