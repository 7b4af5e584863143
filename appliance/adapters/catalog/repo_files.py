from __future__ import annotations

from collections.abc import Collection, Iterable

import aiosqlite

from appliance.adapters.catalog.repo import OWNED, WorkspaceRepo, chunks
from appliance.adapters.catalog.repo_storage import SqliteStorage
from appliance.domain.manifest import WorkingFile
from appliance.domain.records import StagedFile, StageResult


class SqliteFiles(WorkspaceRepo):
    def __init__(
        self, conn: aiosqlite.Connection, ws: str, now: float, storage: SqliteStorage
    ) -> None:
        super().__init__(conn, ws, now)
        self.storage = storage  # staging starts the grace clock of what it drops

    async def known(self, digests: Collection[str]) -> set[str]:
        """Digests this workspace has a live (not erased) file record for."""
        found: set[str] = set()
        for part in chunks(digests):
            cur = await self.conn.execute(
                f"SELECT sha256 FROM files WHERE workspace_id = ? AND erased_at IS NULL"
                f" AND sha256 IN ({','.join('?' * len(part))})",
                (self.ws, *part),
            )
            found.update(r[0] for r in await cur.fetchall())
        return found

    async def erased(self, digests: Collection[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(digests):
            cur = await self.conn.execute(
                f"SELECT sha256 FROM files WHERE workspace_id = ? AND erased_at IS NOT NULL"
                f" AND sha256 IN ({','.join('?' * len(part))})",
                (self.ws, *part),
            )
            found.update(r[0] for r in await cur.fetchall())
        return found

    async def working(self, dataset_id: int) -> dict[str, WorkingFile]:
        cur = await self.conn.execute(
            "SELECT f.filename, f.sha256, f.label_sha256, f.role, f.split FROM dataset_files f"
            " JOIN datasets d ON d.id = f.dataset_id"
            " WHERE f.dataset_id = ? AND d.workspace_id = ?",
            (dataset_id, self.ws),
        )
        return {r[0]: WorkingFile(*r) for r in await cur.fetchall()}

    async def working_file(self, dataset_id: int, filename: str) -> WorkingFile | None:
        """One file of the working area (the editor's path: no scan of the whole area)."""
        cur = await self.conn.execute(
            "SELECT f.filename, f.sha256, f.label_sha256, f.role, f.split FROM dataset_files f"
            " JOIN datasets d ON d.id = f.dataset_id"
            " WHERE f.dataset_id = ? AND f.filename = ? AND d.workspace_id = ?",
            (dataset_id, filename, self.ws),
        )
        row = await cur.fetchone()
        return WorkingFile(*row) if row else None

    async def stored_bytes(self) -> int:
        """Bytes of every live file record: what counts against the quota."""
        cur = await self.conn.execute(
            "SELECT COALESCE(SUM(size), 0) FROM files WHERE workspace_id = ? AND erased_at IS NULL",
            (self.ws,),
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def sizes(self, digests: Collection[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunks(digests):
            cur = await self.conn.execute(
                f"SELECT sha256, size FROM files WHERE workspace_id = ? AND erased_at IS NULL"
                f" AND sha256 IN ({','.join('?' * len(part))})",
                (self.ws, *part),
            )
            found.update({r[0]: int(r[1]) for r in await cur.fetchall()})
        return found

    async def working_bytes(self, dataset_id: int) -> int:
        cur = await self.conn.execute(
            "SELECT COALESCE(SUM(fi.size), 0) FROM dataset_files f"
            " JOIN files fi ON fi.workspace_id = ? AND fi.sha256 = f.sha256"
            f" WHERE f.dataset_id = ? AND {OWNED['dataset']}",
            (self.ws, dataset_id, dataset_id, self.ws),
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def stage(
        self,
        dataset_id: int,
        files: Iterable[StagedFile],
        remove: Collection[str] = (),
        current: dict[str, WorkingFile] | None = None,
    ) -> StageResult:
        """Record file contents and point working-area names at them.

        Callers store the blobs first: a files row is only written for bytes that
        are already in the blob store, so no reference can dangle.
        """
        await self.require("dataset", dataset_id)
        if current is None:  # callers that just read it in this transaction pass it
            current = await self.working(dataset_id)
        new_files: dict[str, int] = {}
        upserts: list[tuple[object, ...]] = []
        added = updated = unchanged = 0
        for f in files:
            old = current.get(f.filename)
            if (
                old is not None
                and (old.sha256, old.label_sha256, old.role)
                == (
                    f.sha256,
                    f.label_sha256,
                    f.role,
                )
                and f.split in (None, old.split)
            ):
                unchanged += 1
                continue
            added += old is None
            updated += old is not None
            new_files[f.sha256] = f.size
            if f.label_sha256 is not None:
                new_files[f.label_sha256] = f.label_size
            upserts.append(
                (dataset_id, f.filename, f.sha256, f.label_sha256, f.role, f.split, self.now)
            )
        await self.conn.executemany(
            "INSERT INTO files (workspace_id, sha256, size, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (workspace_id, sha256) DO UPDATE SET orphaned_at = NULL",
            [(self.ws, sha, size, self.now) for sha, size in new_files.items()],
        )
        await self.conn.executemany(
            "INSERT INTO dataset_files (dataset_id, filename, sha256, label_sha256, role,"
            " split, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset_id, filename)"
            " DO UPDATE SET sha256 = excluded.sha256, label_sha256 = excluded.label_sha256,"
            " role = excluded.role, split = COALESCE(excluded.split, dataset_files.split),"
            " updated_at = excluded.updated_at",
            upserts,
        )
        removed = [name for name in remove if name in current]
        await self.conn.executemany(
            "DELETE FROM dataset_files WHERE dataset_id = ? AND filename = ?",
            [(dataset_id, name) for name in removed],
        )
        replaced = [current[n] for n in removed] + [
            current[u[1]]  # type: ignore[index]
            for u in upserts
            if u[1] in current
        ]
        dropped = {w.sha256 for w in replaced} | {
            w.label_sha256 for w in replaced if w.label_sha256 is not None
        }
        if dropped:
            await self.storage.mark_orphans(dropped)
        return StageResult(added, updated, unchanged, len(removed))
