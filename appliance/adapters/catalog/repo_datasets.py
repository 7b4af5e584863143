from __future__ import annotations

from appliance.adapters.catalog.repo import WorkspaceRepo
from appliance.adapters.catalog.rows import DATASET_COLUMNS, split_json, to_dataset
from appliance.domain.records import Dataset
from appliance.domain.split import SplitConfig
from appliance.errors import Conflict, NotFound


class SqliteDatasets(WorkspaceRepo):
    async def create(self, slug: str, description: str, split: SplitConfig) -> Dataset:
        cur = await self.conn.execute(
            "SELECT 1 FROM datasets WHERE workspace_id = ? AND slug = ? AND deleted_at IS NULL",
            (self.ws, slug),
        )
        if await cur.fetchone():
            raise Conflict(f"dataset {slug!r} already exists", hint="pick another name")
        cur = await self.conn.execute(
            "INSERT INTO datasets (workspace_id, slug, description, split_json, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING " + DATASET_COLUMNS,
            (self.ws, slug, description, split_json(split), self.now),
        )
        row = await cur.fetchone()
        assert row is not None
        return to_dataset(row)

    async def get(self, slug: str) -> Dataset:
        cur = await self.conn.execute(
            f"SELECT {DATASET_COLUMNS} FROM datasets"
            " WHERE workspace_id = ? AND slug = ? AND deleted_at IS NULL",
            (self.ws, slug),
        )
        row = await cur.fetchone()
        if row is None:
            raise NotFound("dataset", slug, hint="`ahoy dataset list` shows the datasets")
        return to_dataset(row)

    async def set_split(self, dataset_id: int, split: SplitConfig) -> None:
        await self.conn.execute(
            "UPDATE datasets SET split_json = ? WHERE id = ? AND workspace_id = ?",
            (split_json(split), dataset_id, self.ws),
        )

    async def soft_delete(self, dataset_id: int) -> None:
        await self.conn.execute(
            "UPDATE datasets SET deleted_at = ? WHERE id = ? AND workspace_id = ?",
            (self.now, dataset_id, self.ws),
        )

    async def list(self) -> list[tuple[Dataset, int | None, int]]:
        """Each live dataset with its latest version number and working-area size."""
        cur = await self.conn.execute(
            f"SELECT {DATASET_COLUMNS},"
            " (SELECT MAX(number) FROM dataset_versions v"
            "   WHERE v.dataset_id = datasets.id AND v.deleted_at IS NULL),"
            " (SELECT COUNT(*) FROM dataset_files f WHERE f.dataset_id = datasets.id)"
            " FROM datasets WHERE workspace_id = ? AND deleted_at IS NULL ORDER BY slug",
            (self.ws,),
        )
        return [(to_dataset(r), r[7], r[8]) for r in await cur.fetchall()]
