"""The model registry inside one workspace: models, their versions (each tied to
the dataset version and run that made it), and tags such as ``production``."""

from __future__ import annotations

import json
from typing import Any

from appliance.adapters.catalog.repo import Owned, WorkspaceRepo
from appliance.domain.records import Model, ModelSummary, ModelVersion
from appliance.errors import InvalidInput, NotFound

_MV = (
    "mv.id, mv.number, mv.dataset_version_id, mv.run_id, mv.source, mv.weights_sha256,"
    " mv.weights_size, mv.format, mv.metrics_json, mv.code_json, mv.config_json,"
    " mv.created_by, mv.created_at, m.name, m.task, mv.parent_version_id,"
    " (SELECT p.number FROM model_versions p WHERE p.id = mv.parent_version_id)"
)


def _version(r: Any, tags: list[str]) -> ModelVersion:
    return {
        "id": r[0],
        "number": r[1],
        "dataset_version_id": r[2],
        "run_id": r[3],
        "source": r[4],
        "weights_sha256": r[5],
        "weights_size": r[6],
        "format": r[7],
        "metrics": json.loads(r[8]),
        "code": json.loads(r[9]),
        "config": json.loads(r[10]),
        "created_by": r[11],
        "created_at": r[12],
        "model": r[13],
        "task": r[14],
        "parent_version_id": r[15],
        "parent": r[16],  # an export's source version (same model)
        "tags": tags,
    }


class SqliteModels(WorkspaceRepo):
    async def get(self, name: str) -> Model:
        cur = await self.conn.execute(
            "SELECT id, name, task, created_by, created_at FROM models"
            " WHERE workspace_id = ? AND name = ?",
            (self.ws, name),
        )
        r = await cur.fetchone()
        if r is None:
            raise NotFound("model", name, hint="`ahoy model list` shows the registered models")
        return {"id": r[0], "name": r[1], "task": r[2], "created_by": r[3], "created_at": r[4]}

    async def ensure(self, name: str, task: str, actor: str) -> Model:
        """The model named ``name``, created on first use; its task may not change."""
        await self.conn.execute(
            "INSERT OR IGNORE INTO models (workspace_id, name, task, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (self.ws, name, task, actor, self.now),
        )
        model = await self.get(name)
        if model["task"] != task:
            raise InvalidInput(
                f"model {name!r} is a {model['task']} model, not {task}",
                hint="register it under another name",
            )
        return model

    async def add_version(self, model_id: int, **fields: Any) -> ModelVersion:
        """``fields``: dataset_version_id, run_id, source, weights_sha256, weights_size,
        format, metrics, code, config, actor. The weights blob is stored first."""
        cur = await self.conn.execute(
            "SELECT (SELECT coalesce(max(number), 0) + 1 FROM model_versions"
            " WHERE model_id = m.id) FROM models m WHERE m.id = ? AND m.workspace_id = ?",
            (model_id, self.ws),
        )
        found = await cur.fetchone()
        if found is None:
            raise NotFound("model", str(model_id))
        number = int(found[0])
        refs: list[tuple[Owned, str]] = [
            ("version", "dataset_version_id"),
            ("job", "run_id"),
            ("model version", "parent_version_id"),
        ]
        for kind, field in refs:
            if fields.get(field) is not None:
                await self.require(kind, fields[field])
        await self.conn.execute(
            "INSERT INTO files (workspace_id, sha256, size, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (workspace_id, sha256) DO UPDATE SET orphaned_at = NULL",
            (self.ws, fields["weights_sha256"], fields["weights_size"], self.now),
        )
        await self.conn.execute(
            "INSERT INTO model_versions (model_id, number, dataset_version_id, run_id, source,"
            " weights_sha256, weights_size, format, metrics_json, code_json, config_json,"
            " created_by, created_at, parent_version_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                model_id,
                number,
                fields.get("dataset_version_id"),
                fields.get("run_id"),
                fields["source"],
                fields["weights_sha256"],
                fields["weights_size"],
                fields["format"],
                json.dumps(fields.get("metrics") or {}, sort_keys=True),
                json.dumps(fields.get("code") or {}, sort_keys=True),
                json.dumps(fields.get("config") or {}, sort_keys=True),
                fields["actor"],
                self.now,
                fields.get("parent_version_id"),
            ),
        )
        return await self.version(model_id, str(number))

    async def set_metrics(self, version_id: int, metrics: dict[str, Any]) -> None:
        """Replace a version's metrics (an export gains its parity once measured)."""
        await self.conn.execute(
            "UPDATE model_versions SET metrics_json = ? WHERE id = ? AND model_id IN"
            " (SELECT id FROM models WHERE workspace_id = ?)",
            (json.dumps(metrics, sort_keys=True), version_id, self.ws),
        )

    async def version(self, model_id: int, ref: str) -> ModelVersion:
        """``ref``: a number, ``vN``, a tag, or ``latest``."""
        where, arg = _ref_clause(ref)
        cur = await self.conn.execute(
            f"SELECT {_MV} FROM model_versions mv JOIN models m ON m.id = mv.model_id"
            f" WHERE mv.model_id = ? AND m.workspace_id = ? AND {where}"
            " ORDER BY mv.number DESC LIMIT 1",
            (model_id, self.ws, *arg),
        )
        r = await cur.fetchone()
        if r is None:
            raise NotFound("model version", ref, hint="`ahoy model show NAME` lists them")
        tags = await self._tags_by_version(model_id)
        return _version(r, tags.get(r[0], []))

    async def versions(self, model_id: int) -> list[ModelVersion]:
        cur = await self.conn.execute(
            f"SELECT {_MV} FROM model_versions mv JOIN models m ON m.id = mv.model_id"
            " WHERE mv.model_id = ? AND m.workspace_id = ? ORDER BY mv.number DESC",
            (model_id, self.ws),
        )
        tags = await self._tags_by_version(model_id)
        return [_version(r, tags.get(r[0], [])) for r in await cur.fetchall()]

    async def set_tag(self, model_id: int, name: str, version_id: int, actor: str) -> None:
        cur = await self.conn.execute(
            "INSERT INTO model_tags (model_id, name, model_version_id, updated_by, updated_at)"
            " SELECT mv.model_id, ?, mv.id, ?, ? FROM model_versions mv"
            " JOIN models m ON m.id = mv.model_id AND m.workspace_id = ?"
            " WHERE mv.id = ? AND mv.model_id = ? ON CONFLICT (model_id, name) DO UPDATE SET"
            " model_version_id = excluded.model_version_id, updated_by = excluded.updated_by,"
            " updated_at = excluded.updated_at",
            (name, actor, self.now, self.ws, version_id, model_id),
        )
        if cur.rowcount == 0:
            raise NotFound("model version", str(version_id))

    async def _tags_by_version(self, model_id: int) -> dict[int, list[str]]:
        cur = await self.conn.execute(
            "SELECT model_version_id, name FROM model_tags WHERE model_id = ? ORDER BY name",
            (model_id,),
        )
        out: dict[int, list[str]] = {}
        for version_id, name in await cur.fetchall():
            out.setdefault(version_id, []).append(name)
        return out

    async def _tags_by_number(self, model_id: int) -> dict[str, int]:
        """tag → the number of the version it names."""
        cur = await self.conn.execute(
            "SELECT t.name, mv.number FROM model_tags t"
            " JOIN model_versions mv ON mv.id = t.model_version_id"
            " WHERE t.model_id = ? ORDER BY t.name",
            (model_id,),
        )
        return {name: number for name, number in await cur.fetchall()}

    async def list(self) -> list[ModelSummary]:
        cur = await self.conn.execute(
            "SELECT m.id, m.name, m.task, m.created_at, max(mv.number), count(mv.id)"
            " FROM models m LEFT JOIN model_versions mv ON mv.model_id = m.id"
            " WHERE m.workspace_id = ? GROUP BY m.id ORDER BY m.name",
            (self.ws,),
        )
        rows = await cur.fetchall()
        out = []
        for r in rows:
            tags = await self._tags_by_number(r[0])
            out.append(
                ModelSummary(
                    name=r[1],
                    task=r[2],
                    created_at=r[3],
                    latest=r[4],
                    versions=r[5],
                    tags=tags,
                )
            )
        return out


def _ref_clause(ref: str) -> tuple[str, tuple[Any, ...]]:
    if ref == "latest":
        return "1 = 1", ()
    digits = ref[1:] if ref[:1] in "vV" else ref
    if digits.isascii() and digits.isdigit() and len(digits) < 10:
        return "mv.number = ?", (int(digits),)
    return (
        "mv.id = (SELECT model_version_id FROM model_tags t WHERE t.model_id = mv.model_id"
        " AND t.name = ?)",
        (ref,),
    )
