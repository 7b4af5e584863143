"""Jobs of a workspace: their rows, the events they record, the artifacts they keep."""

from __future__ import annotations

from typing import Any, Protocol

from appliance.domain.records import ActiveJob, Artifact, Job, JobEvent


class Jobs(Protocol):
    async def add(
        self,
        job_id: str,
        kind: str,
        params: dict[str, Any],
        actor: str,
        request: dict[str, Any],
        admission: dict[str, Any] | None = None,
    ) -> None:
        """A queued job; ``request``: what it asks of the box (the governor's input)."""

    async def update(self, job_id: str, **fields: Any) -> None:
        """Set any of state, progress, result, error, request, admission, started_at,
        finished_at, devices, pgid, cancel_requested_at. A new ``state`` must be a
        move of ``domain.jobs`` (``check_move``): an illegal one raises IllegalMove
        and changes nothing."""

    async def get(self, job_id: str) -> Job:
        """Raises NotFound (also for a job of another workspace)."""

    async def add_events(self, job_id: str, events: list[tuple[str, dict[str, Any]]]) -> int:
        """Append ``(kind, data)`` events in order, numbered on from the job's last
        sequence number; returns the new last one. Raises NotFound."""

    async def events(
        self, job_id: str, after: int = 0, kinds: tuple[str, ...] = (), limit: int = 10_000
    ) -> list[JobEvent]:
        """Events after sequence number ``after`` in order, of ``kinds`` if given."""

    async def add_artifact(self, job_id: str, name: str, sha256: str, size: int) -> None:
        """Keep a stored blob as the job's artifact ``name`` (replacing one of that
        name). Raises NotFound."""

    async def artifacts(self, job_id: str) -> list[Artifact]:
        """By name."""

    async def list(self, limit: int = 100) -> list[Job]:
        """Newest first."""


class Scheduling(Protocol):
    """The scheduler's box-wide view of the queue, across every workspace (read
    only: it changes a job through that job's workspace unit of work)."""

    async def active_jobs(self) -> list[ActiveJob]:
        """Jobs queued or running, box-wide, oldest first, each with its
        ``workspace``, ``request``, ``devices``, ``pgid`` and ``admission``."""
