"""The data engine's repositories: datasets, their working areas, their versions."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, Protocol

from appliance.domain.manifest import ManifestRow, WorkingFile
from appliance.domain.records import (
    Dataset,
    Derivation,
    Hold,
    StagedFile,
    StageResult,
    Version,
)
from appliance.domain.split import SplitConfig


class Datasets(Protocol):
    async def create(self, slug: str, description: str, split: SplitConfig) -> Dataset:
        """Raises Conflict if a live dataset has this slug."""

    async def get(self, slug: str) -> Dataset:
        """A live dataset by slug. Raises NotFound."""

    async def set_split(self, dataset_id: int, split: SplitConfig) -> None:
        """Changes nothing for a dataset of another workspace."""

    async def soft_delete(self, dataset_id: int) -> None:
        """Changes nothing for a dataset of another workspace."""

    async def list(self) -> list[tuple[Dataset, int | None, int]]:
        """Each live dataset by slug, with its latest version number and working-area
        file count."""


class Files(Protocol):
    """File records (one per content digest in the workspace) and the working area
    (a dataset's names pointing at them)."""

    async def known(self, digests: Collection[str]) -> set[str]:
        """Those of ``digests`` with a live (not erased) file record."""

    async def erased(self, digests: Collection[str]) -> set[str]:
        """Those of ``digests`` whose content was erased."""

    async def sizes(self, digests: Collection[str]) -> dict[str, int]:
        """The sizes of those of ``digests`` with a live file record."""

    async def stored_bytes(self) -> int:
        """Bytes of every live file record: what counts against the quota."""

    async def working(self, dataset_id: int) -> dict[str, WorkingFile]:
        """The working area, by filename (empty for a dataset of another workspace)."""

    async def working_file(self, dataset_id: int, filename: str) -> WorkingFile | None:
        """One file of the working area (no scan of the whole area)."""

    async def working_bytes(self, dataset_id: int) -> int:
        """0 for a dataset of another workspace."""

    async def stage(
        self,
        dataset_id: int,
        files: Iterable[StagedFile],
        remove: Collection[str] = (),
        current: dict[str, WorkingFile] | None = None,
    ) -> StageResult:
        """Upsert file records and working-area names; blobs must already be stored.
        ``current``: the working area, when the caller read it in this transaction.
        Contents no name points at any more start their grace clock. Raises NotFound
        for a dataset of another workspace."""


class Versions(Protocol):
    """Frozen manifests, their tags and holds, and how a derived one was made.

    A dataset or version id of another workspace is not found: reads give nothing
    (None, [], {}); ``create``, ``set_tag``, ``add_hold`` and ``add_derivation``
    raise NotFound; ``delete_tag``, ``release_hold`` and ``delete`` change nothing."""

    async def head(self, dataset_id: int) -> Version | None:
        """The latest live version."""

    async def get(self, dataset_id: int, ref: str) -> Version:
        """By number ('3' or 'v3'), tag, or 'latest'. Raises NotFound."""

    async def by_id(self, version_id: int) -> Version | None:
        """Any version of the workspace, deleted ones included (lineage walks them)."""

    async def create(
        self,
        dataset_id: int,
        rows: Sequence[ManifestRow],
        manifest_hash: str,
        split: SplitConfig,
        parent: Version | None,
        actor: str,
        message: str,
        total_bytes: int,
    ) -> Version:
        """The next number of the dataset, with ``rows`` as its manifest. Raises
        NotFound when the dataset or ``parent`` is not the workspace's."""

    async def manifest(self, version_id: int) -> list[ManifestRow]:
        """Rows sorted by filename in code-point order."""

    async def file_sizes(self, version_id: int) -> dict[str, int]:
        """Digest → size of every content the version names."""

    async def set_tag(self, dataset_id: int, name: str, version_id: int, actor: str) -> None:
        """Point ``name`` at the version (moving it if it named another). Raises
        NotFound unless the version is one of the dataset's, in this workspace."""

    async def delete_tag(self, dataset_id: int, name: str) -> bool:
        """False when there was no such tag (so for a dataset of another workspace)."""

    async def holds(self, version_id: int) -> list[Hold]:
        """What keeps the version from deletion, oldest first."""

    async def add_hold(self, version_id: int, holder_kind: str, holder_ref: str) -> None:
        """Idempotent. Raises NotFound for a version of another workspace."""

    async def release_hold(self, version_id: int, holder_kind: str, holder_ref: str) -> None:
        """Changes nothing for a version of another workspace."""

    async def delete(self, version_id: int) -> set[str]:
        """Drop the version's references (the row stays for lineage); returns its
        digests. A version of another workspace: nothing changes, no digests."""

    async def add_derivation(
        self,
        version_id: int,
        source_version_id: int,
        kind: str,
        recipe: dict[str, Any],
        recipe_sha256: str,
        run_id: str | None,
    ) -> None:
        """Record that a job made ``version_id`` from ``source_version_id``. Raises
        NotFound when either version or the run is not the workspace's."""

    async def derivation(self, version_id: int) -> Derivation | None:
        """The source version (dataset, number, manifest hash) and the recipe; None
        for a version made by a commit."""

    async def list(self, dataset_id: int) -> list[Version]:
        """The live versions, newest first."""
