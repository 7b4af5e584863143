"""Jobs (long work), their events and artifacts, and idempotency keys, inside one
workspace; and the box-wide view of the queue the scheduler works from."""

from __future__ import annotations

import json
from typing import Any

from appliance.adapters.catalog.repo import BoxRepo, WorkspaceRepo
from appliance.domain.jobs import check_move
from appliance.domain.records import ActiveJob, Artifact, Job, JobEvent
from appliance.errors import NotFound

_JSON = ("params", "progress", "result", "error", "request", "admission")
_JOB = (
    "id, kind, state, params_json, progress_json, result_json, error_json, created_by,"
    " created_at, started_at, finished_at, request_json, admission_json, devices, pgid,"
    " cancel_requested_at"
)


def _job(r: Any) -> Job:
    return {
        "id": r[0],
        "kind": r[1],
        "state": r[2],
        "params": json.loads(r[3]),
        "progress": json.loads(r[4]),
        "result": json.loads(r[5]) if r[5] else None,
        "error": json.loads(r[6]) if r[6] else None,
        "created_by": r[7],
        "created_at": r[8],
        "started_at": r[9],
        "finished_at": r[10],
        "request": json.loads(r[11]) if r[11] else None,
        "admission": json.loads(r[12]) if r[12] else None,
        "devices": r[13].split(",") if r[13] else [],
        "pgid": r[14],
        "cancel_requested_at": r[15],
    }


class SqliteJobs(WorkspaceRepo):
    async def add(
        self,
        job_id: str,
        kind: str,
        params: dict[str, Any],
        actor: str,
        request: dict[str, Any],
        admission: dict[str, Any] | None = None,
    ) -> None:
        """A new job, queued; ``request``: what it asks of the box (the governor's input)."""
        await self.conn.execute(
            "INSERT INTO jobs (id, workspace_id, kind, state, params_json, created_by, created_at,"
            " request_json, admission_json) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
            (
                job_id,
                self.ws,
                kind,
                json.dumps(params, sort_keys=True),
                actor,
                self.now,
                json.dumps(request, sort_keys=True),
                json.dumps(admission) if admission is not None else None,
            ),
        )

    async def update(self, job_id: str, **fields: Any) -> None:
        """Set any of state, progress, result, error, request, admission (JSON), and
        started_at, finished_at, devices (list), pgid, cancel_requested_at. A new
        state must be a move of the job state machine: IllegalMove otherwise."""
        if "state" in fields:
            cur = await self.conn.execute(
                "SELECT state FROM jobs WHERE id = ? AND workspace_id = ?", (job_id, self.ws)
            )
            r = await cur.fetchone()
            if r is None:
                raise NotFound("job", job_id)
            check_move(job_id, r[0], fields["state"])
        sets, args = [], []
        for name, value in fields.items():
            if name in _JSON:
                sets.append(f"{name}_json = ?")
                args.append(json.dumps(value))
            else:
                sets.append(f"{name} = ?")
                args.append(",".join(value) if name == "devices" else value)
        await self.conn.execute(
            f"UPDATE jobs SET {', '.join(sets)} WHERE id = ? AND workspace_id = ?",
            (*args, job_id, self.ws),
        )

    async def get(self, job_id: str) -> Job:
        cur = await self.conn.execute(
            f"SELECT {_JOB} FROM jobs WHERE id = ? AND workspace_id = ?", (job_id, self.ws)
        )
        r = await cur.fetchone()
        if r is None:
            raise NotFound("job", job_id)
        return _job(r)

    # events (metrics, logs) and artifacts of a job
    async def add_events(self, job_id: str, events: list[tuple[str, dict[str, Any]]]) -> int:
        """Append ``(kind, data)`` events in order; returns the last sequence number."""
        await self.get(job_id)  # scoped: a job of another workspace is not found
        cur = await self.conn.execute(
            "SELECT coalesce(max(seq), 0) FROM job_events WHERE job_id = ?", (job_id,)
        )
        last = int((await cur.fetchone())[0])  # type: ignore[index]
        rows = [
            (job_id, last + i, kind, json.dumps(data), self.now)
            for i, (kind, data) in enumerate(events, 1)
        ]
        await self.conn.executemany(
            "INSERT INTO job_events (job_id, seq, kind, data_json, at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        return last + len(rows)

    async def events(
        self, job_id: str, after: int = 0, kinds: tuple[str, ...] = (), limit: int = 10_000
    ) -> list[JobEvent]:
        where = "e.job_id = ? AND j.workspace_id = ? AND e.seq > ?"
        args: list[Any] = [job_id, self.ws, after]
        if kinds:
            where += f" AND e.kind IN ({', '.join('?' * len(kinds))})"
            args += kinds
        cur = await self.conn.execute(
            "SELECT e.seq, e.kind, e.data_json, e.at FROM job_events e JOIN jobs j"
            f" ON j.id = e.job_id WHERE {where} ORDER BY e.seq LIMIT ?",
            (*args, limit),
        )
        return [
            {"seq": r[0], "kind": r[1], "data": json.loads(r[2]), "at": r[3]}
            for r in await cur.fetchall()
        ]

    async def add_artifact(self, job_id: str, name: str, sha256: str, size: int) -> None:
        """The blob must be stored first; its files row is written here."""
        await self.get(job_id)
        await self.conn.execute(
            "INSERT INTO files (workspace_id, sha256, size, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (workspace_id, sha256) DO UPDATE SET orphaned_at = NULL",
            (self.ws, sha256, size, self.now),
        )
        await self.conn.execute(
            "INSERT INTO job_artifacts (job_id, name, sha256, size) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (job_id, name) DO UPDATE SET sha256 = excluded.sha256,"
            " size = excluded.size",
            (job_id, name, sha256, size),
        )

    async def artifacts(self, job_id: str) -> list[Artifact]:
        cur = await self.conn.execute(
            "SELECT a.name, a.sha256, a.size FROM job_artifacts a JOIN jobs j ON j.id = a.job_id"
            " WHERE a.job_id = ? AND j.workspace_id = ? ORDER BY a.name",
            (job_id, self.ws),
        )
        return [{"name": r[0], "sha256": r[1], "size": r[2]} for r in await cur.fetchall()]

    async def list(self, limit: int = 100) -> list[Job]:
        cur = await self.conn.execute(
            f"SELECT {_JOB} FROM jobs WHERE workspace_id = ? ORDER BY created_at DESC, id LIMIT ?",
            (self.ws, limit),
        )
        return [_job(r) for r in await cur.fetchall()]


class SqliteIdempotency(WorkspaceRepo):
    async def answer(self, principal: str, key: str) -> tuple[str, int, bytes] | None:
        cur = await self.conn.execute(
            "SELECT request_hash, status, body FROM idempotency_keys"
            " WHERE workspace_id = ? AND principal = ? AND key = ?",
            (self.ws, principal, key),
        )
        r = await cur.fetchone()
        return (r[0], int(r[1]), bytes(r[2])) if r else None

    async def remember(
        self, principal: str, key: str, request_hash: str, status: int, body: bytes
    ) -> None:
        await self.conn.execute(
            "INSERT OR IGNORE INTO idempotency_keys"
            " (workspace_id, principal, key, request_hash, status, body, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.ws, principal, key, request_hash, status, body, self.now),
        )


class SqliteScheduling(BoxRepo):
    """Box-wide and read only: the jobs of every workspace that hold or wait for the box."""

    async def active_jobs(self) -> list[ActiveJob]:
        """Jobs queued or running, on the whole box, oldest first."""
        cur = await self.conn.execute(
            "SELECT workspace_id, id, kind, state, request_json, devices, pgid, created_at,"
            " cancel_requested_at, admission_json FROM jobs WHERE state IN ('queued', 'running')"
            " ORDER BY created_at, id"
        )
        return [
            {
                "workspace": r[0],
                "id": r[1],
                "kind": r[2],
                "state": r[3],
                "request": json.loads(r[4]),
                "devices": r[5].split(",") if r[5] else [],
                "pgid": r[6],
                "created_at": r[7],
                "cancel_requested_at": r[8],
                "admission": json.loads(r[9]) if r[9] else None,
            }
            for r in await cur.fetchall()
        ]
