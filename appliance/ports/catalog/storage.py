"""What the garbage collector and erasure see of the workspace's file records."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from appliance.domain.records import Erasure


class Storage(Protocol):
    """A file record is referenced while a live dataset's working area or live
    version, a job's artifacts or a registered model version name it."""

    async def mark_orphans(self, digests: Collection[str] | None = None) -> int:
        """Start the grace clock on unreferenced files (of ``digests``, or all),
        stop it on referenced ones; returns how many were newly marked."""

    async def reclaimable(self, cutoff: float) -> list[tuple[str, int]]:
        """(digest, size) of files unreferenced since before ``cutoff`` (re-checked)."""

    async def forget(self, digests: Collection[str]) -> None:
        """Delete the live file records of ``digests`` (their blobs are gone)."""

    async def all_digests(self) -> set[str]:
        """Every digest with a file record, erased ones included."""

    async def live_digests(self) -> set[str]:
        """Digests something references: each must resolve to a blob."""

    async def erased(self) -> set[str]:
        """Every erased digest."""

    async def erase(self, sha256: str, reason: str, actor: str) -> list[tuple[str, str]]:
        """Tombstone a content: working areas drop it, versions keep the row and
        report it erased. Returns the (dataset, filename) pairs dropped."""

    async def erasure(self, sha256: str) -> Erasure | None:
        """The latest erasure of the content: when, by whom and why."""
