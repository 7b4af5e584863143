"""`ahoy serve`'s job worker child: started, watched, restarted, stopped.

When the worker dies, the jobs it was running are failed and their process groups
killed (the scheduler's ``fail_running``), so no job is left "running" that is
not; then it is started again, up to ``worker_max_restarts`` times in a row.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from typing import IO

from appliance.runtime.worker import PARENT_PID
from appliance.services.scheduler import Scheduler
from appliance.settings import Settings

log = logging.getLogger("ahoy.serve")


class WorkerChild:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.settings.log_dir / "worker.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance.runtime.worker"],
            env={**os.environ, **self.settings.as_env(), PARENT_PID: str(os.getpid())},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C on serve reaches us, not it directly
        )
        log.info("job worker started: pid %s", self.proc.pid)

    @property
    def state(self) -> str:
        if self.proc is None:
            return "not started"
        return "running" if self.proc.poll() is None else "down"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM: huey stops at once (running jobs are failed by the caller)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self._log is not None:
            self._log.close()

    async def watch(self, scheduler: Scheduler, stopping: asyncio.Event) -> str | None:
        """Restart a dead worker; returns a failure message once it keeps dying."""
        while not stopping.is_set():
            await asyncio.sleep(1.0)
            if self.proc is None or self.proc.poll() is None:
                continue
            code = self.proc.poll()
            log.error("the job worker exited with code %s (log: %s)", code, self.settings.log_dir)
            cut = await scheduler.fail_running("the job worker process died while it ran")
            if cut:
                log.warning("%d running job(s) failed with the worker", cut)
            if self.restarts >= self.settings.worker_max_restarts:
                return f"the job worker died {self.restarts + 1} times; see {self.settings.log_dir}"
            self.restarts += 1
            self.start()
        return None
