"""Catalog: the metadata store, used through a workspace-scoped unit of work.

``async with catalog.writing(ws) as uow`` is one transaction holding the write
lock (SQLite: ``BEGIN IMMEDIATE``); ``reading(ws)`` is a consistent snapshot.
Every method acts inside the workspace the unit of work was opened for, so no
caller can reach another tenant's rows. The SQLite adapter is the reference; a
PostgreSQL adapter must pass the same tests and compute the same fingerprints
(they are computed in the domain, never in SQL).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from appliance.domain.manifest import ManifestRow, WorkingFile
from appliance.domain.records import Dataset, Hold, StagedFile, StageResult, Version
from appliance.domain.split import SplitConfig


class UnitOfWork(Protocol):
    ws: str

    # datasets
    async def create_dataset(self, slug: str, description: str, split: SplitConfig) -> Dataset:
        """Raises Conflict if a live dataset has this slug."""

    async def get_dataset(self, slug: str) -> Dataset:
        """Raises NotFound."""

    async def list_datasets(self) -> list[tuple[Dataset, int | None, int]]: ...
    async def set_dataset_split(self, dataset_id: int, split: SplitConfig) -> None: ...
    async def soft_delete_dataset(self, dataset_id: int) -> None: ...

    # files and the working area
    async def known_digests(self, digests: Collection[str]) -> set[str]: ...
    async def erased_digests(self, digests: Collection[str]) -> set[str]: ...
    async def working_files(self, dataset_id: int) -> dict[str, WorkingFile]: ...
    async def working_bytes(self, dataset_id: int) -> int: ...
    async def stage(
        self,
        dataset_id: int,
        files: Iterable[StagedFile],
        remove: Collection[str] = (),
        current: dict[str, WorkingFile] | None = None,
    ) -> StageResult:
        """Upsert file records and working-area names; blobs must already be stored."""

    # versions, tags, holds
    async def head(self, dataset_id: int) -> Version | None: ...
    async def get_version(self, dataset_id: int, ref: str) -> Version:
        """By number ('3' or 'v3'), tag, or 'latest'. Raises NotFound."""

    async def version_by_id(self, version_id: int) -> Version | None: ...
    async def list_versions(self, dataset_id: int) -> list[Version]: ...
    async def create_version(
        self,
        dataset_id: int,
        rows: Sequence[ManifestRow],
        manifest_hash: str,
        split: SplitConfig,
        parent: Version | None,
        actor: str,
        message: str,
        total_bytes: int,
    ) -> Version: ...
    async def manifest(self, version_id: int) -> list[ManifestRow]:
        """Rows sorted by filename in code-point order."""

    async def file_sizes(self, version_id: int) -> dict[str, int]: ...
    async def set_tag(self, dataset_id: int, name: str, version_id: int, actor: str) -> None: ...
    async def delete_tag(self, dataset_id: int, name: str) -> bool: ...
    async def holds(self, version_id: int) -> list[Hold]: ...
    async def add_hold(self, version_id: int, holder_kind: str, holder_ref: str) -> None: ...
    async def release_hold(self, version_id: int, holder_kind: str, holder_ref: str) -> None: ...
    async def delete_version(self, version_id: int) -> set[str]:
        """Drop the version's references (the row stays for lineage); returns its digests."""

    # garbage collection and erasure
    async def mark_orphans(self, digests: Collection[str] | None = None) -> int: ...
    async def reclaimable(self, cutoff: float) -> list[tuple[str, int]]: ...
    async def forget_files(self, digests: Collection[str]) -> None: ...
    async def all_digests(self) -> set[str]: ...
    async def live_digests(self) -> set[str]: ...
    async def erased(self) -> set[str]: ...
    async def erase_file(self, sha256: str, reason: str, actor: str) -> list[tuple[str, str]]: ...
    async def erasure_record(self, sha256: str) -> dict[str, object] | None: ...

    # audit
    async def audit(
        self, actor: str, action: str, target: str, outcome: str = "ok", **detail: Any
    ) -> None: ...
    async def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]: ...


class Catalog(Protocol):
    name: str

    def writing(self, workspace: str) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def reading(self, workspace: str) -> AbstractAsyncContextManager[UnitOfWork]: ...
    async def close(self) -> None: ...
