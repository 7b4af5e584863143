from __future__ import annotations

from collections.abc import Collection

from appliance.adapters.catalog.repo import WorkspaceRepo, chunks
from appliance.domain.records import Erasure

# A file is referenced while a live dataset's working area or a live version of a
# live dataset names it, as content or as a label document, or a job keeps it. Soft-deleted datasets
# hold nothing. (One EXISTS per column, so each uses its own index.)
_IN_WORKING = """EXISTS (SELECT 1 FROM dataset_files df JOIN datasets d ON d.id = df.dataset_id
            WHERE df.{col} = files.sha256 AND d.workspace_id = files.workspace_id
              AND d.deleted_at IS NULL)"""
_IN_VERSION = """EXISTS (SELECT 1 FROM version_files vf
            JOIN dataset_versions v ON v.id = vf.version_id JOIN datasets d ON d.id = v.dataset_id
            WHERE vf.{col} = files.sha256 AND d.workspace_id = files.workspace_id
              AND d.deleted_at IS NULL AND v.deleted_at IS NULL)"""
# A job's artifacts (weights, logs, plots) are kept as long as the job row is.
_IN_JOB = """EXISTS (SELECT 1 FROM job_artifacts ja JOIN jobs j ON j.id = ja.job_id
            WHERE ja.sha256 = files.sha256 AND j.workspace_id = files.workspace_id)"""
# A registered model version keeps its weights.
_IN_MODEL = """EXISTS (SELECT 1 FROM model_versions mv JOIN models m ON m.id = mv.model_id
            WHERE mv.weights_sha256 = files.sha256 AND m.workspace_id = files.workspace_id)"""
_REFERENCED = (
    "("
    + " OR ".join(
        [
            *(
                q.format(col=c)
                for c in ("sha256", "label_sha256")
                for q in (_IN_WORKING, _IN_VERSION)
            ),
            _IN_JOB,
            _IN_MODEL,
        ]
    )
    + ")"
)


class SqliteStorage(WorkspaceRepo):
    async def mark_orphans(self, digests: Collection[str] | None = None) -> int:
        """Start the grace clock on files nothing references; stop it on the rest."""
        scopes = [None] if digests is None else list(chunks(digests))
        marked = 0
        for part in scopes:
            only = "" if part is None else f" AND sha256 IN ({','.join('?' * len(part))})"
            args = () if part is None else tuple(part)
            cur = await self.conn.execute(
                f"UPDATE files SET orphaned_at = ? WHERE workspace_id = ? AND orphaned_at IS NULL"
                f" AND NOT {_REFERENCED}{only}",
                (self.now, self.ws, *args),
            )
            marked += cur.rowcount
            await self.conn.execute(
                f"UPDATE files SET orphaned_at = NULL WHERE workspace_id = ?"
                f" AND orphaned_at IS NOT NULL AND {_REFERENCED}{only}",
                (self.ws, *args),
            )
        return marked

    async def reclaimable(self, cutoff: float) -> list[tuple[str, int]]:
        """Files unreferenced since before ``cutoff`` (re-checked, not trusted)."""
        cur = await self.conn.execute(
            f"SELECT sha256, size FROM files WHERE workspace_id = ? AND orphaned_at IS NOT NULL"
            f" AND orphaned_at <= ? AND NOT {_REFERENCED}",
            (self.ws, cutoff),
        )
        return [(r[0], r[1]) for r in await cur.fetchall()]

    async def forget(self, digests: Collection[str]) -> None:
        for part in chunks(digests):
            await self.conn.execute(
                f"DELETE FROM files WHERE workspace_id = ? AND erased_at IS NULL"
                f" AND sha256 IN ({','.join('?' * len(part))})",
                (self.ws, *part),
            )

    async def all_digests(self) -> set[str]:
        """Every digest with a file record, erased ones included."""
        cur = await self.conn.execute("SELECT sha256 FROM files WHERE workspace_id = ?", (self.ws,))
        return {r[0] for r in await cur.fetchall()}

    async def live_digests(self) -> set[str]:
        """Digests something references: each must resolve to a blob."""
        cur = await self.conn.execute(
            f"SELECT sha256 FROM files WHERE workspace_id = ? AND erased_at IS NULL"
            f" AND {_REFERENCED}",
            (self.ws,),
        )
        return {r[0] for r in await cur.fetchall()}

    async def erased(self) -> set[str]:
        cur = await self.conn.execute(
            "SELECT sha256 FROM files WHERE workspace_id = ? AND erased_at IS NOT NULL", (self.ws,)
        )
        return {r[0] for r in await cur.fetchall()}

    async def erase(self, sha256: str, reason: str, actor: str) -> list[tuple[str, str]]:
        """Tombstone a content: working areas drop it, versions keep the row and
        report it erased. Returns the (dataset, filename) pairs dropped."""
        cur = await self.conn.execute(
            "SELECT d.slug, df.filename, d.id FROM dataset_files df"
            " JOIN datasets d ON d.id = df.dataset_id"
            " WHERE d.workspace_id = ? AND df.sha256 = ?",
            (self.ws, sha256),
        )
        hits = await cur.fetchall()
        await self.conn.executemany(
            "DELETE FROM dataset_files WHERE dataset_id = ? AND filename = ?",
            [(r[2], r[1]) for r in hits],
        )
        await self.conn.execute(
            "UPDATE files SET erased_at = ? WHERE workspace_id = ? AND sha256 = ?",
            (self.now, self.ws, sha256),
        )
        await self.conn.execute(
            "INSERT INTO erasures (workspace_id, sha256, reason, actor, erased_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (self.ws, sha256, reason, actor, self.now),
        )
        return [(r[0], r[1]) for r in hits]

    async def erasure(self, sha256: str) -> Erasure | None:
        cur = await self.conn.execute(
            "SELECT reason, actor, erased_at FROM erasures WHERE workspace_id = ? AND sha256 = ?"
            " ORDER BY id DESC LIMIT 1",
            (self.ws, sha256),
        )
        row = await cur.fetchone()
        return {"reason": row[0], "actor": row[1], "erased_at": row[2]} if row else None
