"""The worker process: a huey consumer that runs admitted jobs.

`ahoy serve` starts it as a supervised child (``python -m appliance.runtime.worker``)
with its settings in ``AHOY_*`` variables. Each job runs on a worker thread with
its own event loop and catalog connection; heavy work (training, export) runs in
child process groups the job records, so cancelling kills all of it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time

from appliance.adapters.queue.huey_queue import build
from appliance.bootstrap import open_services
from appliance.jobs.kinds import JobKinds, registry
from appliance.runtime.execute import execute as run_to_end
from appliance.settings import Settings
from appliance.training.offline import apply_offline_env

log = logging.getLogger("ahoy.worker")
#: The variable through which `ahoy serve` names itself to its worker.
PARENT_PID = "AHOY_PARENT_PID"


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _exit_with_parent(int(os.environ.get(PARENT_PID, os.getppid())))
    settings = Settings.from_env()
    apply_offline_env(settings.yolo_config_dir)
    kinds = registry()

    def execute(ws: str, job_id: str) -> None:
        state = asyncio.run(_execute(settings, kinds, ws, job_id))
        log.info("job %s ended %s", job_id, state)

    queue = build(settings, execute)
    consumer = queue.huey.create_consumer(
        workers=settings.job_workers,
        worker_type="thread",
        periodic=False,
        initial_delay=0.05,
        max_delay=0.5,
        backoff=1.5,
    )
    consumer.run()


def _exit_with_parent(parent: int) -> None:
    """`ahoy serve` may die without stopping us (kill -9): then we go too, so a new
    `ahoy serve` never shares the queue with a stale worker. The jobs we ran are
    failed, and their process groups killed, by the new serve's scheduler.
    ``parent`` is the pid serve gave us: had it died while we started up, our
    parent would already be another process, which must not count as serve."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        log.error("ahoy serve (pid %s) is gone; the worker stops", parent)
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


async def _execute(settings: Settings, kinds: JobKinds, ws: str, job_id: str) -> str:
    async with open_services(settings, kinds=kinds) as ctx:
        return await run_to_end(ctx, ws, job_id)


if __name__ == "__main__":
    main()
