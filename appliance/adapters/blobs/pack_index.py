"""The SQLite index of a packed blob store: (workspace, sha256) → object, offset, size.

The index is the only thing that makes a blob visible. Rows are inserted only
after the object holding their bytes has been written in full, in one
transaction per object, so a kill at any moment leaves at worst an object with
no rows (garbage for ``sweep_unindexed``), never a row without bytes.

An object is located by a *locator*: a filer path (it starts with ``/``) or a
volume file id such as ``3,01637037d6``. Volume needles cannot be listed, so a
pack bound for a volume is journalled in ``pending_packs`` before its upload
starts, and the transaction that indexes it also removes its pending row: every
needle a killed writer may have left is named there, for the sweep.

Several processes may share the file: WAL lets readers run beside the one
writer, every write is a short ``BEGIN IMMEDIATE`` transaction, and
``busy_timeout`` makes a writer wait for another instead of failing. Inside one
process a lock serialises use of the single connection.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import BlobStoreUnavailable, StorageFull
from appliance.ports.blobstore import BlobInfo
from appliance.sqlite_wal import create_private, enable_wal

SCHEMA_VERSION = 2  # 1: objects.path (filer paths only); 2: locator + pending_packs
_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL,
    locator TEXT NOT NULL UNIQUE,       -- filer path (starts with /) or volume fid
    kind TEXT NOT NULL CHECK (kind IN ('pack', 'loose')),
    size INTEGER NOT NULL,              -- bytes of the whole object, footer included
    live_bytes INTEGER NOT NULL,        -- sum of sizes of blobs still indexed in it
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (
    workspace TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    object_id INTEGER NOT NULL REFERENCES objects(id),
    offset INTEGER NOT NULL,
    size INTEGER NOT NULL,
    stored_at REAL NOT NULL,
    PRIMARY KEY (workspace, sha256)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blobs_by_object ON blobs(object_id);
CREATE INDEX IF NOT EXISTS objects_by_workspace ON objects(workspace, kind);
CREATE TABLE IF NOT EXISTS pending_packs (
    fid TEXT PRIMARY KEY,               -- volume fid of a pack being uploaded
    workspace TEXT NOT NULL,
    created_at REAL NOT NULL,
    swept_at REAL                       -- set once a sweep has claimed it
);
"""
# SQLite's default limit on bound parameters is 32766 since 3.32; stay far below.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Location:
    object_id: int
    locator: str
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class ObjectRow:
    id: int
    workspace: str
    locator: str
    kind: str
    size: int
    live_bytes: int


class PackIndex:
    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        create_private(self.path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        enable_wal(self._db.execute)
        # FULL: a commit is durable once it returns. Commits are one or two per
        # pack (~16 MiB: journal row, then index rows), so the WAL fsync is noise.
        self._db.execute("PRAGMA synchronous = FULL")
        with self._write() as db:
            _migrate(db)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, _mapped(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _read(self, sql: str, args: Sequence[object] = ()) -> list[tuple]:
        with self._lock, _mapped(self.path):
            return self._db.execute(sql, args).fetchall()

    # -- lookups ---------------------------------------------------------------

    def ping(self) -> None:
        self._read("SELECT 1")

    def present(self, workspace: str, digests: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in _chunks(digests):
            marks = ",".join("?" * len(part))
            rows = self._read(
                f"SELECT sha256 FROM blobs WHERE workspace = ? AND sha256 IN ({marks})",
                [workspace, *part],
            )
            found.update(r[0] for r in rows)
        return found

    def locate(self, workspace: str, digests: Sequence[str]) -> dict[str, Location]:
        found: dict[str, Location] = {}
        for part in _chunks(digests):
            marks = ",".join("?" * len(part))
            rows = self._read(
                "SELECT b.sha256, o.id, o.locator, b.offset, b.size FROM blobs b "
                "JOIN objects o ON o.id = b.object_id "
                f"WHERE b.workspace = ? AND b.sha256 IN ({marks})",
                [workspace, *part],
            )
            for sha, oid, locator, off, size in rows:
                found[sha] = Location(oid, locator, off, size)
        return found

    def list_page(self, workspace: str, after: str, limit: int) -> list[BlobInfo]:
        rows = self._read(
            "SELECT sha256, size, stored_at FROM blobs WHERE workspace = ? AND sha256 > ? "
            "ORDER BY sha256 LIMIT ?",
            (workspace, after, limit),
        )
        return [BlobInfo(s, n, t) for s, n, t in rows]

    def stats(self, workspace: str) -> tuple[int, int]:
        ((count, size),) = self._read(
            "SELECT count(*), coalesce(sum(size), 0) FROM blobs WHERE workspace = ?",
            (workspace,),
        )
        return int(count), int(size)

    def object_locators(self) -> set[str]:
        return {r[0] for r in self._read("SELECT locator FROM objects")}

    def pending(self) -> dict[str, float]:
        """Packs being uploaded, or left by killed writers: fid → created_at."""
        return {f: t for f, t in self._read("SELECT fid, created_at FROM pending_packs")}

    def sparse_objects(
        self, workspace: str | None, min_live_ratio: float, only: Sequence[int] | None = None
    ) -> list[ObjectRow]:
        """Packs whose live bytes fell below ``min_live_ratio`` of their size
        (optionally only among the object ids ``only``)."""
        sql = (
            "SELECT id, workspace, locator, kind, size, live_bytes FROM objects "
            "WHERE kind = 'pack' AND live_bytes < ? * size"
        )
        args: list[object] = [min_live_ratio]
        if workspace is not None:
            sql += " AND workspace = ?"
            args.append(workspace)
        rows = [ObjectRow(*r) for r in self._read(sql + " ORDER BY workspace, id", args)]
        if only is not None:
            wanted = set(only)
            rows = [r for r in rows if r.id in wanted]
        return rows

    def live_entries(self, object_id: int) -> list[tuple[str, int, int]]:
        return [
            (s, o, n)
            for s, o, n in self._read(
                "SELECT sha256, offset, size FROM blobs WHERE object_id = ? ORDER BY offset",
                (object_id,),
            )
        ]

    # -- writes ----------------------------------------------------------------

    def add_pending(self, fid: str, workspace: str, created_at: float) -> None:
        """Journal a pack before its upload starts (see the module docstring)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO pending_packs (fid, workspace, created_at) VALUES (?, ?, ?)",
                (fid, workspace, created_at),
            )

    def claim_pending(self, before: float) -> list[str]:
        """Mark pending packs created before ``before`` as swept and return them.

        A writer whose pack was claimed can no longer index it (``_take_pending``),
        so the sweep may delete the bytes even if that writer was only stalled.
        A pack that is somehow indexed already just loses its pending row.
        """
        with self._write() as db:
            db.execute("DELETE FROM pending_packs WHERE fid IN (SELECT locator FROM objects)")
            db.execute(
                "UPDATE pending_packs SET swept_at = coalesce(swept_at, ?) WHERE created_at < ?",
                (time.time(), before),
            )
            rows = db.execute(
                "SELECT fid FROM pending_packs WHERE swept_at IS NOT NULL ORDER BY created_at"
            ).fetchall()
        return [r[0] for r in rows]

    def drop_pending(self, fid: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM pending_packs WHERE fid = ?", (fid,))

    def commit_object(
        self,
        workspace: str,
        locator: str,
        kind: str,
        size: int,
        entries: Sequence[tuple[str, int, int]],
        stored_at: float,
        *,
        pending: bool = False,
    ) -> int:
        """Index a fully written object; return how many of its blobs were new.

        A blob another writer indexed first keeps its old location (OR IGNORE);
        an object left with no live blob gets no row at all, so it is garbage.
        ``pending``: the object is a journalled pack whose pending row goes in
        the same transaction.
        """
        with self._write() as db:
            if pending:
                self._take_pending(db, locator)
            cur = db.execute(
                "INSERT INTO objects (workspace, locator, kind, size, live_bytes, created_at) "
                "VALUES (?, ?, ?, ?, 0, ?)",
                (workspace, locator, kind, size, stored_at),
            )
            oid = int(cur.lastrowid or 0)
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO blobs (workspace, sha256, object_id, offset, size, "
                "stored_at) VALUES (?, ?, ?, ?, ?, ?)",
                [(workspace, s, oid, o, n, stored_at) for s, o, n in entries],
            )
            inserted = db.total_changes - before
            if inserted == 0:
                db.execute("DELETE FROM objects WHERE id = ?", (oid,))
            else:
                _refresh_live(db, [oid])
        return inserted

    def _take_pending(self, db: sqlite3.Connection, fid: str) -> None:
        cur = db.execute("DELETE FROM pending_packs WHERE fid = ? AND swept_at IS NULL", (fid,))
        if cur.rowcount != 1:
            raise BlobStoreUnavailable(
                str(self.path), f"pack {fid} was swept as abandoned before it could be indexed"
            )

    def delete(self, workspace: str, digests: Sequence[str]) -> tuple[int, list[str], list[int]]:
        """Drop these blobs; return (bytes removed, locators of emptied objects,
        ids of objects that lost blobs but still hold some)."""
        removed = 0
        touched: set[int] = set()
        with self._write() as db:
            for part in _chunks(digests):
                marks = ",".join("?" * len(part))
                where = f"workspace = ? AND sha256 IN ({marks})"
                rows = db.execute(
                    f"SELECT object_id, size FROM blobs WHERE {where}", [workspace, *part]
                ).fetchall()
                db.execute(f"DELETE FROM blobs WHERE {where}", [workspace, *part])
                removed += sum(n for _, n in rows)
                touched.update(oid for oid, _ in rows)
            emptied = _refresh_live(db, sorted(touched))
        return removed, emptied, sorted(touched)

    def move(
        self,
        workspace: str,
        locator: str,
        size: int,
        moves: Sequence[tuple[str, int, int, int]],
        created_at: float,
        *,
        pending: bool = False,
    ) -> tuple[list[str], int]:
        """Point blobs at a freshly written pack. ``moves``: (sha256, old object id,
        new offset, size). A blob deleted meanwhile stays deleted; a blob that
        already moved is left where it is. Returns (emptied locators, moved)."""
        with self._write() as db:
            if pending:
                self._take_pending(db, locator)
            cur = db.execute(
                "INSERT INTO objects (workspace, locator, kind, size, live_bytes, created_at) "
                "VALUES (?, ?, 'pack', ?, 0, ?)",
                (workspace, locator, size, created_at),
            )
            oid = int(cur.lastrowid or 0)
            before = db.total_changes
            db.executemany(
                "UPDATE blobs SET object_id = ?, offset = ? "
                "WHERE workspace = ? AND sha256 = ? AND object_id = ?",
                [(oid, off, workspace, sha, old) for sha, old, off, _ in moves],
            )
            moved = db.total_changes - before
            olds = sorted({old for _, old, _, _ in moves})
            emptied = _refresh_live(db, [*olds, oid])
        return emptied, moved

    def adopt(
        self,
        workspace: str,
        locator: str,
        kind: str,
        size: int,
        entries: Sequence[tuple[str, int, int]],
        stored_at: float,
    ) -> int:
        """Index an object found on the filer during a rebuild (if not yet known)."""
        if self._read("SELECT 1 FROM objects WHERE locator = ?", (locator,)):
            return 0
        return self.commit_object(workspace, locator, kind, size, entries, stored_at)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _migrate(db: sqlite3.Connection) -> None:
    """Create the schema, or bring a version 1 file (filer paths only) up to date:
    its ``path`` column becomes ``locator`` (filer paths stay valid locators)."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version >= SCHEMA_VERSION:
        return
    columns = {r[1] for r in db.execute("PRAGMA table_info(objects)")}
    if "path" in columns:
        db.execute("ALTER TABLE objects RENAME COLUMN path TO locator")
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _refresh_live(db: sqlite3.Connection, object_ids: Sequence[int]) -> list[str]:
    """Recount live bytes of these objects; delete the rows of emptied ones and
    return their locators (their bytes can then be deleted)."""
    emptied: list[str] = []
    for oid in object_ids:
        (live, count) = db.execute(
            "SELECT coalesce(sum(size), 0), count(*) FROM blobs WHERE object_id = ?", (oid,)
        ).fetchone()
        if count == 0:
            row = db.execute("SELECT locator FROM objects WHERE id = ?", (oid,)).fetchone()
            if row is not None:
                emptied.append(row[0])
                db.execute("DELETE FROM objects WHERE id = ?", (oid,))
        else:
            db.execute("UPDATE objects SET live_bytes = ? WHERE id = ?", (live, oid))
    return emptied


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


@contextmanager
def _mapped(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "full" in text:
            raise StorageFull(str(path)) from exc
        raise BlobStoreUnavailable(str(path), f"index: {exc}") from exc
