"""Governed jobs from the SDK: submit, cancel, read events and artifacts, capacity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from appliance.sdk.transport import Transport
from appliance.sdk.types import Job


class QueueApi(Transport):
    def submit_job(
        self, kind: str, params: dict[str, Any] | None = None, ws: str | None = None
    ) -> Job:
        """Queue a governed job. The answer's ``admission`` says whether it runs, waits
        (``position``) or why it must wait; a job that can never fit this box is
        refused with ``job-rejected`` (what it needs, what the box has)."""
        job: Job = self._json(
            "POST", self._ws(ws, "jobs"), json={"kind": kind, "params": params or {}}
        )
        return job

    def cancel_job(self, job_id: str, ws: str | None = None) -> Job:
        job: Job = self._json("POST", self._ws(ws, "jobs", job_id, "cancel"))
        return job

    def job_log(
        self, job_id: str, ws: str | None = None, *, kind: str | None = None, after: int = 0
    ) -> Iterator[dict[str, Any]]:
        """The events a job recorded (metrics, log lines, ...), in order."""
        while True:
            params: dict[str, Any] = {"after": after}
            if kind:
                params["kind"] = kind
            page = self._json("GET", self._ws(ws, "jobs", job_id, "log"), params=params)
            if not page["events"]:
                return
            yield from page["events"]
            after = page["last"]

    def job_artifacts(self, job_id: str, ws: str | None = None) -> list[dict[str, Any]]:
        return list(self._json("GET", self._ws(ws, "jobs", job_id, "artifacts"))["artifacts"])

    def job_kinds(self, ws: str | None = None) -> list[dict[str, Any]]:
        return list(self._json("GET", self._ws(ws, "job-kinds"))["kinds"])

    def plugins(self) -> dict[str, Any]:
        """``{plugins, tiers}``: the model plugins the appliance found (``status``
        available or unavailable, with the ``error``) and whether each training
        tier (catalog, script, container) is available here, or why not."""
        return dict(self._json("GET", "/v1/plugins"))

    def capacity(self) -> dict[str, Any]:
        """The box as the governor sees it: reading, running and queued counts."""
        return dict(self._json("GET", "/v1/capacity"))
