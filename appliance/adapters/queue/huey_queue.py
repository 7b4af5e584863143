"""The huey queue between `ahoy serve` (producer) and its worker process (consumer).

The catalog, not huey, is the source of truth for jobs: the scheduler puts a job
on this queue only once the governor admitted it, and huey carries ``(workspace,
job id)`` to a worker thread. Both sides build the same huey and register the
same task through :func:`build`, so the task's name matches and nothing happens
at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from huey import SqliteHuey

from appliance.settings import Settings

TASK = "ahoy.run_job"

Execute = Callable[[str, str], None]


@dataclass(frozen=True)
class HueyQueue:
    huey: SqliteHuey
    task: Any  # huey's TaskWrapper

    def dispatch(self, ws: str, job_id: str) -> None:
        """Hand an admitted job to the worker process."""
        self.task(ws, job_id)

    def flush(self) -> None:
        """Forget queued messages: on start, the scheduler re-admits from the catalog."""
        self.huey.flush()


def build(settings: Settings, execute: Execute | None = None) -> HueyQueue:
    """``execute(ws, job_id)`` runs in the consumer; producers pass None."""
    huey = SqliteHuey(
        name="ahoy", filename=str(settings.queue_path), results=False, utc=True, timeout=30
    )

    def run_job(ws: str, job_id: str) -> None:
        if execute is None:  # pragma: no cover - only a consumer executes
            raise RuntimeError("this process only enqueues jobs")
        execute(ws, job_id)

    task = huey.task(name=TASK, retries=0)(run_job)
    return HueyQueue(huey, task)
