from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from appliance.adapters.catalog.repo import OWNED, WorkspaceRepo
from appliance.adapters.catalog.rows import VERSION_COLUMNS, split_json, to_version
from appliance.domain.manifest import ManifestRow
from appliance.domain.records import Derivation, Hold, Version
from appliance.domain.split import SplitConfig
from appliance.errors import NotFound

_SCOPE = " JOIN datasets d ON d.id = v.dataset_id AND d.workspace_id = ?"


class SqliteVersions(WorkspaceRepo):
    async def _one_version(self, where: str, args: tuple[object, ...]) -> Version | None:
        cur = await self.conn.execute(
            f"SELECT {VERSION_COLUMNS} FROM dataset_versions v{_SCOPE} WHERE {where}",
            (self.ws, *args),
        )
        row = await cur.fetchone()
        return to_version(row) if row else None

    async def head(self, dataset_id: int) -> Version | None:
        return await self._one_version(
            "v.dataset_id = ? AND v.deleted_at IS NULL ORDER BY v.number DESC LIMIT 1",
            (dataset_id,),
        )

    async def get(self, dataset_id: int, ref: str) -> Version:
        """A version by number (``3``, ``v3``), tag name, or ``latest``."""
        text = ref.strip()
        number = text.lstrip("v")
        if text == "latest":
            found = await self.head(dataset_id)
        elif number.isascii() and number.isdigit():
            # ASCII only: int() refuses digits such as '²' that isdigit() allows. A
            # number past SQLite's 64-bit integers cannot be bound and names no version.
            found = None
            if len(number) <= 18:
                found = await self._one_version(
                    "v.dataset_id = ? AND v.number = ? AND v.deleted_at IS NULL",
                    (dataset_id, int(number)),
                )
        else:
            found = await self._one_version(
                "v.dataset_id = ? AND v.deleted_at IS NULL AND v.id ="
                " (SELECT version_id FROM version_tags WHERE dataset_id = ? AND name = ?)",
                (dataset_id, dataset_id, text),
            )
        if found is None:
            raise NotFound("version", ref, hint="`ahoy dataset log` lists versions and tags")
        return found

    async def by_id(self, version_id: int) -> Version | None:
        return await self._one_version("v.id = ?", (version_id,))

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
        cur = await self.conn.execute(
            "SELECT (SELECT COALESCE(MAX(number), 0) + 1 FROM dataset_versions"
            f" WHERE dataset_id = d.id), {OWNED['version']}"
            " FROM datasets d WHERE d.id = ? AND d.workspace_id = ?",
            (parent.id if parent else None, self.ws, dataset_id, self.ws),
        )
        found = await cur.fetchone()
        if found is None:
            raise NotFound("dataset", str(dataset_id))
        number, parent_owned = found
        if parent is not None and not parent_owned:
            raise NotFound("version", str(parent.id))
        cur = await self.conn.execute(
            "INSERT INTO dataset_versions (dataset_id, number, manifest_hash, split_json,"
            " parent_id, created_by, message, file_count, total_bytes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                dataset_id,
                number,
                manifest_hash,
                split_json(split),
                parent.id if parent else None,
                actor,
                message,
                len(rows),
                total_bytes,
                self.now,
            ),
        )
        (version_id,) = await cur.fetchone()  # type: ignore[misc]
        await self.conn.executemany(
            "INSERT INTO version_files (version_id, filename, sha256, label_sha256, role, split)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(version_id, r.filename, r.sha256, r.label_sha256, r.role, r.split) for r in rows],
        )
        created = await self.by_id(version_id)
        assert created is not None
        return created

    async def manifest(self, version_id: int) -> list[ManifestRow]:
        cur = await self.conn.execute(
            "SELECT vf.filename, vf.sha256, vf.label_sha256, vf.role, vf.split"
            " FROM version_files vf JOIN dataset_versions v ON v.id = vf.version_id"
            f"{_SCOPE} WHERE vf.version_id = ?",
            (self.ws, version_id),
        )
        rows = [ManifestRow(*r) for r in await cur.fetchall()]
        rows.sort(key=lambda r: r.filename)  # code-point order, not the DB collation
        return rows

    async def file_sizes(self, version_id: int) -> dict[str, int]:
        cur = await self.conn.execute(
            "SELECT DISTINCT fi.sha256, fi.size FROM version_files vf"
            " JOIN files fi ON fi.workspace_id = ? AND fi.sha256 = vf.sha256"
            f" WHERE vf.version_id = ? AND {OWNED['version']}",
            (self.ws, version_id, version_id, self.ws),
        )
        return {r[0]: r[1] for r in await cur.fetchall()}

    async def set_tag(self, dataset_id: int, name: str, version_id: int, actor: str) -> None:
        cur = await self.conn.execute(
            "INSERT INTO version_tags (dataset_id, name, version_id, updated_at, updated_by)"
            f" SELECT v.dataset_id, ?, v.id, ?, ? FROM dataset_versions v{_SCOPE}"
            " WHERE v.id = ? AND v.dataset_id = ? ON CONFLICT (dataset_id, name) DO UPDATE"
            " SET version_id = excluded.version_id, updated_at = excluded.updated_at,"
            " updated_by = excluded.updated_by",
            (name, self.now, actor, self.ws, version_id, dataset_id),
        )
        if cur.rowcount == 0:
            raise NotFound("version", str(version_id))

    async def delete_tag(self, dataset_id: int, name: str) -> bool:
        cur = await self.conn.execute(
            f"DELETE FROM version_tags WHERE dataset_id = ? AND name = ? AND {OWNED['dataset']}",
            (dataset_id, name, dataset_id, self.ws),
        )
        return cur.rowcount > 0

    async def holds(self, version_id: int) -> list[Hold]:
        cur = await self.conn.execute(
            "SELECT holder_kind, holder_ref FROM version_holds"
            f" WHERE version_id = ? AND {OWNED['version']} ORDER BY id",
            (version_id, version_id, self.ws),
        )
        return [Hold(r[0], r[1]) for r in await cur.fetchall()]

    async def add_hold(self, version_id: int, holder_kind: str, holder_ref: str) -> None:
        cur = await self.conn.execute(
            "INSERT OR IGNORE INTO version_holds (version_id, holder_kind, holder_ref, created_at)"
            f" SELECT ?, ?, ?, ? WHERE {OWNED['version']}",
            (version_id, holder_kind, holder_ref, self.now, version_id, self.ws),
        )
        if cur.rowcount == 0:  # held already, or not a version of this workspace
            await self.require("version", version_id)

    async def release_hold(self, version_id: int, holder_kind: str, holder_ref: str) -> None:
        await self.conn.execute(
            "DELETE FROM version_holds WHERE version_id = ? AND holder_kind = ?"
            f" AND holder_ref = ? AND {OWNED['version']}",
            (version_id, holder_kind, holder_ref, version_id, self.ws),
        )

    async def delete(self, version_id: int) -> set[str]:
        """Drop the version's references; its row stays so lineage still walks."""
        cur = await self.conn.execute(
            f"UPDATE dataset_versions SET deleted_at = ? WHERE id = ? AND {OWNED['version']}",
            (self.now, version_id, version_id, self.ws),
        )
        if cur.rowcount == 0:
            return set()
        cur = await self.conn.execute(
            "SELECT sha256, label_sha256 FROM version_files WHERE version_id = ?", (version_id,)
        )
        digests = {d for r in await cur.fetchall() for d in r if d is not None}
        await self.conn.execute("DELETE FROM version_files WHERE version_id = ?", (version_id,))
        await self.conn.execute("DELETE FROM version_tags WHERE version_id = ?", (version_id,))
        return digests

    # -- derivations: a version made from another by a job (e.g. augmentation) ----
    async def add_derivation(
        self,
        version_id: int,
        source_version_id: int,
        kind: str,
        recipe: dict[str, Any],
        recipe_sha256: str,
        run_id: str | None,
    ) -> None:
        cur = await self.conn.execute(
            "INSERT INTO version_derivations (version_id, source_version_id, kind,"
            " recipe_sha256, recipe_json, run_id)"
            f" SELECT ?, ?, ?, ?, ?, ? WHERE {OWNED['version']} AND {OWNED['version']}"
            f" AND (? IS NULL OR {OWNED['job']})",
            (
                version_id,
                source_version_id,
                kind,
                recipe_sha256,
                json.dumps(recipe, sort_keys=True),
                run_id,
                version_id,
                self.ws,
                source_version_id,
                self.ws,
                run_id,
                run_id,
                self.ws,
            ),
        )
        if cur.rowcount == 0:  # name the one that is not the workspace's
            await self.require("version", version_id)
            await self.require("version", source_version_id)
            if run_id is not None:
                await self.require("job", run_id)

    async def derivation(self, version_id: int) -> Derivation | None:
        """What version this one was made from, and how (``None`` for a commit)."""
        cur = await self.conn.execute(
            "SELECT d.kind, d.recipe_sha256, d.recipe_json, d.run_id, sd.slug, sv.number,"
            " sv.manifest_hash FROM version_derivations d"
            " JOIN dataset_versions sv ON sv.id = d.source_version_id"
            " JOIN datasets sd ON sd.id = sv.dataset_id AND sd.workspace_id = ?"
            f" WHERE d.version_id = ? AND {OWNED['version']}",
            (self.ws, version_id, version_id, self.ws),
        )
        row = await cur.fetchone()
        if row is None:
            return None
        return {
            "kind": row[0],
            "recipe_sha256": row[1],
            "recipe": json.loads(row[2]),
            "run": row[3],
            "dataset": row[4],
            "version": row[5],
            "manifest_hash": row[6],
        }

    async def list(self, dataset_id: int) -> list[Version]:
        cur = await self.conn.execute(
            f"SELECT {VERSION_COLUMNS} FROM dataset_versions v{_SCOPE}"
            " WHERE v.dataset_id = ? AND v.deleted_at IS NULL ORDER BY v.number DESC",
            (self.ws, dataset_id),
        )
        return [to_version(r) for r in await cur.fetchall()]
