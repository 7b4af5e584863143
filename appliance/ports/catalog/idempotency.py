"""Answers kept for ``Idempotency-Key`` requests, per workspace and principal."""

from __future__ import annotations

from typing import Protocol


class Idempotency(Protocol):
    async def answer(self, principal: str, key: str) -> tuple[str, int, bytes] | None:
        """The (request hash, status, body) remembered for the key, if any."""

    async def remember(
        self, principal: str, key: str, request_hash: str, status: int, body: bytes
    ) -> None:
        """Keep the answer; the first one stays if the key already has one."""
