"""Webhook registrations, their delivery log and their place in the event stream
(the workspace's audit entries)."""

from __future__ import annotations

from typing import Protocol

from appliance.domain.records import Delivery, Webhook


class Webhooks(Protocol):
    async def add(
        self, hook_id: str, url: str, events: list[str], secret: str, actor: str
    ) -> Webhook:
        """A new hook hears about what happens from now on: its cursor starts at the
        newest audit entry."""

    async def get(self, hook_id: str) -> Webhook:
        """A live hook. Raises NotFound."""

    async def secret(self, hook_id: str) -> str:
        """Raises NotFound."""

    async def delete(self, hook_id: str) -> None:
        """Raises NotFound."""

    async def cursor(self, hook_id: str) -> int:
        """The id of the last audit entry the hook is done with; 0 for a hook of
        another workspace, as for one never added."""

    async def advance(self, hook_id: str, event_id: int) -> None:
        """Move the cursor to ``event_id``; never backwards. Changes nothing for a
        hook of another workspace."""

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
        """One attempt: its outcome class (``appliance.domain.webhooks.Outcome``), never
        an error text, which would name the hosts and ports the url led to. Raises
        NotFound for a hook of another workspace (a deleted hook of this one still
        logs: a delivery may finish after the deletion)."""

    async def deliveries(self, hook_id: str, limit: int = 100) -> list[Delivery]:
        """Newest first. Raises NotFound."""

    async def list(self) -> list[Webhook]:
        """Live hooks, oldest first."""
