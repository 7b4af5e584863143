"""Jobs (long work) and idempotency keys, inside one workspace."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from appliance.errors import NotFound

_JOB = (
    "id, kind, state, params_json, progress_json, result_json, error_json, created_by,"
    " created_at, started_at, finished_at"
)


def _job(r: Any) -> dict[str, Any]:
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
    }


class JobRepo:
    conn: aiosqlite.Connection
    ws: str
    now: float

    async def add_job(self, job_id: str, kind: str, params: dict[str, Any], actor: str) -> None:
        await self.conn.execute(
            "INSERT INTO jobs (id, workspace_id, kind, state, params_json, created_by, created_at)"
            " VALUES (?, ?, ?, 'queued', ?, ?, ?)",
            (job_id, self.ws, kind, json.dumps(params, sort_keys=True), actor, self.now),
        )

    async def update_job(self, job_id: str, **fields: Any) -> None:
        """Set any of state, progress, result, error, started_at, finished_at."""
        sets, args = [], []
        for name, value in fields.items():
            column = f"{name}_json" if name in ("progress", "result", "error") else name
            sets.append(f"{column} = ?")
            args.append(json.dumps(value) if column.endswith("_json") else value)
        await self.conn.execute(
            f"UPDATE jobs SET {', '.join(sets)} WHERE id = ? AND workspace_id = ?",
            (*args, job_id, self.ws),
        )

    async def get_job(self, job_id: str) -> dict[str, Any]:
        cur = await self.conn.execute(
            f"SELECT {_JOB} FROM jobs WHERE id = ? AND workspace_id = ?", (job_id, self.ws)
        )
        r = await cur.fetchone()
        if r is None:
            raise NotFound("job", job_id)
        return _job(r)

    async def list_jobs(self, limit: int = 100) -> list[dict[str, Any]]:
        cur = await self.conn.execute(
            f"SELECT {_JOB} FROM jobs WHERE workspace_id = ? ORDER BY created_at DESC, id LIMIT ?",
            (self.ws, limit),
        )
        return [_job(r) for r in await cur.fetchall()]

    # idempotency
    async def idempotent_answer(self, principal: str, key: str) -> tuple[str, int, bytes] | None:
        cur = await self.conn.execute(
            "SELECT request_hash, status, body FROM idempotency_keys"
            " WHERE workspace_id = ? AND principal = ? AND key = ?",
            (self.ws, principal, key),
        )
        r = await cur.fetchone()
        return (r[0], int(r[1]), bytes(r[2])) if r else None

    async def remember_answer(
        self, principal: str, key: str, request_hash: str, status: int, body: bytes
    ) -> None:
        await self.conn.execute(
            "INSERT OR IGNORE INTO idempotency_keys"
            " (workspace_id, principal, key, request_hash, status, body, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.ws, principal, key, request_hash, status, body, self.now),
        )
