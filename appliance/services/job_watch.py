"""Watch a job from `ahoy serve`: it runs in the worker process, so its changes are
read back from the catalog (every ``interval`` seconds). Yields ``{"event": ...}``
dicts: ``state`` (with the job) whenever its state, admission or devices change,
``progress``, each recorded event (``metrics``, ``epoch``, ``log``, ...) in order
with its ``seq``, and ``ping`` when nothing happened for a while; it ends with the
job."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from appliance.domain.jobs import TERMINAL
from appliance.domain.records import Job
from appliance.services.context import ServiceContext

PING_SECONDS = 15.0


async def poll_watch(
    ctx: ServiceContext, ws: str, job_id: str, interval: float = 0.5, after: int = 0
) -> AsyncIterator[dict[str, Any]]:
    last_job: Job | None = None
    last_sent = time.monotonic()
    while True:
        async with ctx.catalog.reading(ws) as uow:
            job = await uow.jobs.get(job_id)
            events = await uow.jobs.events(job_id, after=after, limit=1000)
        for e in events:
            after = e["seq"]
            yield {"event": e["kind"], "seq": e["seq"], "at": e["at"], **e["data"]}
        if last_job is None or _changed(last_job, job, "state", "admission", "devices"):
            yield {"event": "state", "job": job}
        elif _changed(last_job, job, "progress"):
            yield {"event": "progress", "progress": job["progress"]}
        elif not events and time.monotonic() - last_sent > PING_SECONDS:
            yield {"event": "ping"}
        else:
            last_job = job
            if job["state"] in TERMINAL:
                return
            await asyncio.sleep(interval)
            continue
        last_sent = time.monotonic()
        last_job = job
        if job["state"] in TERMINAL and len(events) < 1000:
            return
        await asyncio.sleep(interval)


def _changed(old: Job, new: Job, *keys: str) -> bool:
    return any(old.get(k) != new.get(k) for k in keys)
