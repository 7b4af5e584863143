from __future__ import annotations

import json
from typing import Any

import aiosqlite


class AuditRepo:
    conn: aiosqlite.Connection
    ws: str
    now: float

    async def ensure_workspace(self) -> None:
        await self.conn.execute(
            "INSERT OR IGNORE INTO workspaces (id, created_at) VALUES (?, ?)", (self.ws, self.now)
        )

    async def audit(
        self, actor: str, action: str, target: str, outcome: str = "ok", **detail: Any
    ) -> None:
        await self.conn.execute(
            "INSERT INTO audit_log (workspace_id, actor, action, target, outcome, detail_json, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.ws, actor, action, target, outcome, json.dumps(detail, sort_keys=True), self.now),
        )

    async def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        cur = await self.conn.execute(
            "SELECT id, actor, action, target, outcome, detail_json, at FROM audit_log"
            " WHERE workspace_id = ? ORDER BY id DESC LIMIT ?",
            (self.ws, limit),
        )
        return [
            {
                "id": r[0],
                "actor": r[1],
                "action": r[2],
                "target": r[3],
                "outcome": r[4],
                "detail": json.loads(r[5]),
                "at": r[6],
            }
            for r in await cur.fetchall()
        ]
