from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aiosqlite

from appliance.adapters.catalog.repo import WorkspaceRepo
from appliance.domain.audit_chain import (
    GENESIS,
    ChainCheck,
    Checkpoint,
    entry_hash,
    verify_chain,
)
from appliance.domain.records import AuditEntry

_COLUMNS = "id, workspace_id, actor, action, target, outcome, detail_json, at"


def _entry(r: Any) -> AuditEntry:
    return {
        "id": r[0],
        "workspace": r[1],
        "actor": r[2],
        "action": r[3],
        "target": r[4],
        "outcome": r[5],
        "detail": json.loads(r[6]),
        "at": r[7],
    }


async def append_audit(
    conn: aiosqlite.Connection,
    ws: str | None,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    detail: dict[str, Any],
    at: float,
) -> None:
    """Append one chained entry. Callers hold the write lock, so the chain is a line."""
    cur = await conn.execute("SELECT id, entry_hash FROM audit_log ORDER BY id DESC LIMIT 1")
    last = await cur.fetchone()
    prev = (last[1] or GENESIS) if last else GENESIS
    new_id = (last[0] + 1) if last else 1
    detail_json = json.dumps(detail, sort_keys=True, default=str)
    entry = _entry((new_id, ws, actor, action, target, outcome, detail_json, at))
    await conn.execute(
        f"INSERT INTO audit_log ({_COLUMNS}, prev_hash, entry_hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new_id,
            ws,
            actor,
            action,
            target,
            outcome,
            detail_json,
            at,
            prev,
            entry_hash(prev, entry),
        ),
    )


async def check_audit_chain(
    conn: aiosqlite.Connection, checkpoints: Sequence[Checkpoint] = ()
) -> ChainCheck:
    cur = await conn.execute(f"SELECT {_COLUMNS}, prev_hash, entry_hash FROM audit_log ORDER BY id")
    rows = [(_entry(r), r[8], r[9]) for r in await cur.fetchall()]
    return verify_chain(rows, checkpoints)


async def audit_head(conn: aiosqlite.Connection) -> tuple[int, str] | None:
    """The newest chained entry's (id, hash); None while nothing is chained."""
    cur = await conn.execute(
        "SELECT id, entry_hash FROM audit_log WHERE entry_hash != '' ORDER BY id DESC LIMIT 1"
    )
    row = await cur.fetchone()
    return (int(row[0]), str(row[1])) if row else None


class SqliteAuditLog(WorkspaceRepo):
    async def record(
        self, actor: str, action: str, target: str, outcome: str = "ok", **detail: Any
    ) -> None:
        await append_audit(self.conn, self.ws, actor, action, target, outcome, detail, self.now)

    async def entries(self, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
        cur = await self.conn.execute(
            f"SELECT {_COLUMNS} FROM audit_log WHERE workspace_id = ? AND id < ?"
            " ORDER BY id DESC LIMIT ?",
            (self.ws, before_id if before_id is not None else 1 << 62, limit),
        )
        return [_entry(r) for r in await cur.fetchall()]

    async def since(self, after_id: int, limit: int = 500) -> list[AuditEntry]:
        """Entries after ``after_id`` in order: the outbox webhooks are fed from."""
        cur = await self.conn.execute(
            f"SELECT {_COLUMNS} FROM audit_log WHERE workspace_id = ? AND id > ?"
            " ORDER BY id LIMIT ?",
            (self.ws, after_id, limit),
        )
        return [_entry(r) for r in await cur.fetchall()]
