"""What the catalog contract's tests share: the workspaces they use, small row
builders, and the ``run`` fixture that gives each test body a new, empty catalog
from the adapter's ``open_catalog``."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from appliance.domain.manifest import ManifestRow
from appliance.domain.records import Dataset, StagedFile, Version
from appliance.domain.split import SplitConfig
from appliance.ports.catalog import Catalog, UnitOfWork

WS = "ws-a"
OTHER = "ws_b"
SPLIT = SplitConfig()

Body = Callable[[Catalog], Awaitable[Any]]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def row(name: str, content: str | None = None, split: str = "train") -> ManifestRow:
    return ManifestRow(name, sha(content or name), None, "image", split)


async def dataset(uow: UnitOfWork, slug: str = "ds") -> Dataset:
    return await uow.datasets.create(slug, "", SPLIT)


async def version(uow: UnitOfWork, ds: Dataset, names: list[str]) -> Version:
    """A version of ``names`` (each file staged first, as a commit has it)."""
    await uow.files.stage(ds.id, [StagedFile(n, sha(n), len(n), "image") for n in names])
    rows = [row(n) for n in names]
    head = await uow.versions.head(ds.id)
    return await uow.versions.create(ds.id, rows, "h" * 64, SPLIT, head, "me", "", 0)


async def job(uow: UnitOfWork, job_id: str = "j1") -> None:
    await uow.jobs.add(job_id, "train", {"epochs": 1}, "me", {"gpus": 1}, None)


async def register(uow: UnitOfWork, model_id: int, **refs: Any) -> Any:
    """A new version of the model with weights ``w``; ``refs``: dataset_version_id,
    run_id, parent_version_id."""
    return await uow.models.add_version(
        model_id,
        source="run",
        weights_sha256=sha("w"),
        weights_size=1,
        format="pt",
        actor="me",
        **refs,
    )


class ContractBase:
    async def open_catalog(self, tmp_path: Path) -> Catalog:
        raise NotImplementedError

    @pytest.fixture
    def run(self, tmp_path: Path) -> Callable[[Body], Any]:
        def go(body: Body) -> Any:
            async def main() -> Any:
                catalog = await self.open_catalog(tmp_path)
                try:
                    return await body(catalog)
                finally:
                    await catalog.close()

            return asyncio.run(main())

        return go
