"""The governor as `ahoy serve` runs it: the live probe, the queue to the worker,
the scheduler, and the worker child. The web app reads it from its state."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from appliance.adapters.probe.host import HostProbe
from appliance.adapters.queue.huey_queue import HueyQueue, build
from appliance.ports.probe import HardwareProbe
from appliance.runtime.worker_child import WorkerChild
from appliance.services.context import ServiceContext
from appliance.services.scheduler import Scheduler
from appliance.settings import Settings


@dataclass
class Governor:
    probe: HardwareProbe
    queue: HueyQueue
    scheduler: Scheduler
    worker: WorkerChild

    async def watch_worker(self, sup: Any) -> None:
        failure = await self.worker.watch(self.scheduler, sup.stopping)
        if failure:
            sup.failure = failure
            sup.stopping.set()


async def start_governor(settings: Settings, ctx: ServiceContext) -> Governor:
    probe = HostProbe(settings.data_dir)
    queue = build(settings)
    await asyncio.to_thread(queue.flush)  # the catalog says what is queued, not huey
    scheduler = Scheduler(ctx, probe, queue.dispatch)
    return Governor(probe, queue, scheduler, WorkerChild(settings))
