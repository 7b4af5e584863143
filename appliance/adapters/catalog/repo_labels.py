"""A dataset's label schema, kept beside the dataset (one JSON document)."""

from __future__ import annotations

import json
from typing import Any

from appliance.adapters.catalog.repo import WorkspaceRepo
from appliance.errors import NotFound


class SqliteLabelSchemas(WorkspaceRepo):
    async def schema(self, dataset_id: int) -> dict[str, Any] | None:
        cur = await self.conn.execute(
            "SELECT s.schema_json FROM dataset_label_schemas s JOIN datasets d"
            " ON d.id = s.dataset_id WHERE s.dataset_id = ? AND d.workspace_id = ?",
            (dataset_id, self.ws),
        )
        row = await cur.fetchone()
        return json.loads(row[0]) if row else None

    async def set_schema(self, dataset_id: int, schema: dict[str, Any], actor: str) -> None:
        cur = await self.conn.execute(
            "INSERT INTO dataset_label_schemas (dataset_id, schema_json, updated_at, updated_by)"
            " SELECT d.id, ?, ?, ? FROM datasets d WHERE d.id = ? AND d.workspace_id = ?"
            " ON CONFLICT (dataset_id) DO UPDATE SET"
            " schema_json = excluded.schema_json, updated_at = excluded.updated_at,"
            " updated_by = excluded.updated_by",
            (json.dumps(schema, sort_keys=True), self.now, actor, dataset_id, self.ws),
        )
        if cur.rowcount == 0:
            raise NotFound("dataset", str(dataset_id))
