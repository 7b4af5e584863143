"""Following a long-running job: Server-Sent Events first, polling as the fallback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator
from typing import Any

import requests

from appliance.sdk.data import DataApi
from appliance.sdk.errors import ApiError
from appliance.sdk.sse import ServerEvent, iter_events
from appliance.sdk.types import TERMINAL_STATES, Job, JobProgress

ProgressCallback = Callable[[JobProgress], None]


class JobsApi(DataApi):
    def job_events(self, ws: str | None, job_id: str) -> Generator[ServerEvent, None, None]:
        """The job's event stream (``progress``, ``state``) until the server ends it."""
        resp = self._request(
            "GET",
            self._ws(ws, "jobs", job_id, "events"),
            headers={"Accept": "text/event-stream"},
            stream=True,
        )
        try:
            yield from iter_events(resp.iter_content(chunk_size=None))
        finally:
            resp.close()

    def wait_job(
        self,
        ws: str | None,
        job_id: str,
        on_progress: ProgressCallback | None = None,
        *,
        poll_interval: float = 0.5,
        timeout: float | None = None,
    ) -> Job:
        """Block until the job has succeeded or failed; return its final state.

        Progress comes from the event stream; if the stream is refused or ends
        before the job does, ``GET /jobs/{id}`` is polled instead. A failed job is
        returned, not raised: look at ``job["state"]`` and ``job["error"]``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        events = self.job_events(ws, job_id)
        try:
            for ev in events:
                payload = _decode(ev.data)
                if ev.event == "progress" and on_progress is not None:
                    on_progress(_progress(payload))
                elif ev.event == "state" and _state(payload) in TERMINAL_STATES:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    break
        except (ApiError, requests.exceptions.RequestException):
            pass  # no stream (or it broke): polling below still gets the answer
        finally:
            events.close()
        last: JobProgress | None = None
        while True:
            job = self.get_job(ws, job_id)
            if job.get("state") in TERMINAL_STATES:
                return job
            prog = job.get("progress")
            if on_progress is not None and prog and prog != last:
                on_progress(prog)
                last = prog
            if deadline is not None and time.monotonic() > deadline:
                return job
            time.sleep(poll_interval)


def _decode(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data


def _state(payload: Any) -> str | None:
    if isinstance(payload, dict):
        job = payload.get("job")
        src = job if isinstance(job, dict) else payload
        return str(src.get("state") or "") or None
    return str(payload) if isinstance(payload, str) else None


def _progress(payload: Any) -> JobProgress:
    if isinstance(payload, dict):
        inner = payload.get("progress")
        src = inner if isinstance(inner, dict) else payload
        return JobProgress(
            done=int(src.get("done") or 0),
            total=int(src.get("total") or 0),
            unit=str(src.get("unit") or ""),
        )
    return JobProgress(done=0, total=0, unit="")
