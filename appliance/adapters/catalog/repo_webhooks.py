"""Webhook registrations, their delivery log and their place in the event stream."""

from __future__ import annotations

import json
from typing import Any

from appliance.adapters.catalog.repo import OWNED, WorkspaceRepo
from appliance.domain.records import Delivery, Webhook
from appliance.domain.webhooks import outcome_error
from appliance.errors import NotFound

_HOOK = "id, url, events_json, created_by, created_at"


def _hook(r: Any) -> Webhook:
    return {
        "id": r[0],
        "url": r[1],
        "events": json.loads(r[2]),
        "created_by": r[3],
        "created_at": r[4],
    }


class SqliteWebhooks(WorkspaceRepo):
    async def add(
        self, hook_id: str, url: str, events: list[str], secret: str, actor: str
    ) -> Webhook:
        await self.conn.execute(
            "INSERT INTO webhooks (id, workspace_id, url, events_json, secret, created_by,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (hook_id, self.ws, url, json.dumps(events), secret, actor, self.now),
        )
        # A new hook hears about what happens from now on, not the whole history.
        cur = await self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM audit_log")
        row = await cur.fetchone()
        await self.conn.execute(
            "INSERT INTO webhook_cursor (webhook_id, last_event_id) VALUES (?, ?)",
            (hook_id, row[0] if row else 0),
        )
        return {
            "id": hook_id,
            "url": url,
            "events": events,
            "created_by": actor,
            "created_at": self.now,
        }

    async def get(self, hook_id: str) -> Webhook:
        cur = await self.conn.execute(
            f"SELECT {_HOOK} FROM webhooks WHERE id = ? AND workspace_id = ?"
            " AND deleted_at IS NULL",
            (hook_id, self.ws),
        )
        r = await cur.fetchone()
        if r is None:
            raise NotFound("webhook", hook_id)
        return _hook(r)

    async def secret(self, hook_id: str) -> str:
        cur = await self.conn.execute(
            "SELECT secret FROM webhooks WHERE id = ? AND workspace_id = ?", (hook_id, self.ws)
        )
        r = await cur.fetchone()
        if r is None:
            raise NotFound("webhook", hook_id)
        return str(r[0])

    async def delete(self, hook_id: str) -> None:
        await self.get(hook_id)
        await self.conn.execute(
            "UPDATE webhooks SET deleted_at = ? WHERE id = ? AND workspace_id = ?",
            (self.now, hook_id, self.ws),
        )

    async def cursor(self, hook_id: str) -> int:
        cur = await self.conn.execute(
            f"SELECT last_event_id FROM webhook_cursor WHERE webhook_id = ? AND {OWNED['webhook']}",
            (hook_id, hook_id, self.ws),
        )
        r = await cur.fetchone()
        return int(r[0]) if r else 0

    async def advance(self, hook_id: str, event_id: int) -> None:
        await self.conn.execute(
            # Never backwards: a late writer cannot make a hook hear an event twice.
            "UPDATE webhook_cursor SET last_event_id = MAX(last_event_id, ?)"
            f" WHERE webhook_id = ? AND {OWNED['webhook']}",
            (event_id, hook_id, hook_id, self.ws),
        )

    async def log_delivery(
        self,
        hook_id: str,
        event_id: int,
        event_type: str,
        attempt: int,
        outcome: str,
        status_code: int | None,
        duration_ms: float,
    ) -> None:
        cur = await self.conn.execute(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, attempt,"
            " outcome, status_code, duration_ms, at)"
            f" SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE {OWNED['webhook']}",
            (
                hook_id,
                event_id,
                event_type,
                attempt,
                outcome,
                status_code,
                duration_ms,
                self.now,
                hook_id,
                self.ws,
            ),
        )
        if cur.rowcount == 0:
            raise NotFound("webhook", hook_id)

    async def deliveries(self, hook_id: str, limit: int = 100) -> list[Delivery]:
        await self.get(hook_id)
        cur = await self.conn.execute(
            "SELECT id, event_id, event_type, attempt, outcome, status_code, duration_ms, at"
            " FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
            (hook_id, limit),
        )
        return [
            Delivery(
                id=r[0],
                event_id=r[1],
                type=r[2],
                attempt=r[3],
                outcome=r[4],
                status_code=r[5],
                duration_ms=r[6],
                at=r[7],
                # the fixed wording of the outcome, where the API always had it
                error=outcome_error(r[4], r[5]),
            )
            for r in await cur.fetchall()
        ]

    async def list(self) -> list[Webhook]:
        cur = await self.conn.execute(
            f"SELECT {_HOOK} FROM webhooks WHERE workspace_id = ? AND deleted_at IS NULL"
            " ORDER BY created_at",
            (self.ws,),
        )
        return [_hook(r) for r in await cur.fetchall()]
