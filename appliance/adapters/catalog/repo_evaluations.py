"""Evaluations: a model version measured on a split of a dataset version. The
full report (curves, confusion matrix, per-image errors) is the evaluating job's
artifacts; the row holds the summary that lists and comparisons need."""

from __future__ import annotations

import json
from typing import Any

from appliance.adapters.catalog.repo import OWNED, WorkspaceRepo
from appliance.domain.records import Evaluation
from appliance.errors import NotFound

_COLUMNS = (
    "e.id, e.job_id, e.model_version_id, e.dataset_version_id, e.split, e.summary_json,"
    " e.settings_json, e.created_by, e.created_at, m.name, mv.number, mv.format,"
    " d.slug, v.number"
)
_JOINS = (
    " FROM evaluations e JOIN model_versions mv ON mv.id = e.model_version_id"
    " JOIN models m ON m.id = mv.model_id AND m.workspace_id = ?"
    " JOIN dataset_versions v ON v.id = e.dataset_version_id"
    " JOIN datasets d ON d.id = v.dataset_id AND d.workspace_id = m.workspace_id"
)


def _row(r: Any) -> Evaluation:
    return {
        "id": r[0],
        "job": r[1],
        "model_version_id": r[2],
        "dataset_version_id": r[3],
        "split": r[4],
        "summary": json.loads(r[5]),
        "settings": json.loads(r[6]),
        "created_by": r[7],
        "created_at": r[8],
        "model": r[9],
        "model_version": r[10],
        "format": r[11],
        "dataset": r[12],
        "version": r[13],
    }


class SqliteEvaluations(WorkspaceRepo):
    async def add(
        self,
        evaluation_id: str,
        job_id: str,
        model_version_id: int,
        dataset_version_id: int,
        split: str,
        summary: dict[str, Any],
        settings: dict[str, Any],
        actor: str,
    ) -> Evaluation:
        cur = await self.conn.execute(
            "INSERT INTO evaluations (id, job_id, model_version_id, dataset_version_id, split,"
            " summary_json, settings_json, created_by, created_at)"
            f" SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE {OWNED['job']}"
            f" AND {OWNED['model version']} AND {OWNED['version']}",
            (
                evaluation_id,
                job_id,
                model_version_id,
                dataset_version_id,
                split,
                json.dumps(summary, sort_keys=True),
                json.dumps(settings, sort_keys=True),
                actor,
                self.now,
                job_id,
                self.ws,
                model_version_id,
                self.ws,
                dataset_version_id,
                self.ws,
            ),
        )
        if cur.rowcount == 0:  # name the one that is not the workspace's
            await self.require("job", job_id)
            await self.require("model version", model_version_id)
            await self.require("version", dataset_version_id)
        return await self.get(evaluation_id)

    async def get(self, evaluation_id: str) -> Evaluation:
        cur = await self.conn.execute(
            f"SELECT {_COLUMNS}{_JOINS} WHERE e.id = ?", (self.ws, evaluation_id)
        )
        r = await cur.fetchone()
        if r is None:
            raise NotFound("evaluation", evaluation_id)
        return _row(r)

    async def of(self, model_version_id: int) -> list[Evaluation]:
        cur = await self.conn.execute(
            f"SELECT {_COLUMNS}{_JOINS} WHERE e.model_version_id = ? ORDER BY e.created_at DESC",
            (self.ws, model_version_id),
        )
        return [_row(r) for r in await cur.fetchall()]
