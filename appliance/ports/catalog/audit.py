"""The workspace's view of the audit log (one hash chain spans the whole box)."""

from __future__ import annotations

from typing import Any, Protocol

from appliance.domain.records import AuditEntry


class AuditLog(Protocol):
    async def record(
        self, actor: str, action: str, target: str, outcome: str = "ok", **detail: Any
    ) -> None:
        """Append one chained entry in this workspace."""

    async def entries(self, limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
        """The workspace's entries newest first, those before ``before_id`` if given."""

    async def since(self, after_id: int, limit: int = 500) -> list[AuditEntry]:
        """Entries after ``after_id``, oldest first: the outbox webhooks read."""
