"""Remembers the digest of files already hashed, keyed by path and stat, like git's
index: re-importing a tree of 10,000 files where 300 changed hashes only the 300.

A cache entry is trusted only if size, mtime, ctime, inode and device all match,
and entries younger than ``RACY_SECONDS`` are never written (a file modified
within the same timestamp tick could otherwise keep a stale digest).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from appliance.ingest.scan import SourceFile
from appliance.sqlite_wal import enable_wal

RACY_SECONDS = 2.0


class StatCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        enable_wal(self._db.execute)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS stat_cache (path TEXT PRIMARY KEY, size INTEGER,"
            " mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER, device INTEGER, sha256 TEXT)"
        )

    def lookup(self, files: Iterable[SourceFile]) -> dict[str, str]:
        """path → sha256 for every file whose stat still matches its cache entry."""
        wanted = {f.path: f for f in files}
        hits: dict[str, str] = {}
        paths = list(wanted)
        for i in range(0, len(paths), 500):
            part = paths[i : i + 500]
            rows = self._db.execute(
                "SELECT path, size, mtime_ns, ctime_ns, inode, device, sha256 FROM stat_cache"
                f" WHERE path IN ({','.join('?' * len(part))})",
                part,
            )
            for path, size, mtime, ctime, inode, device, sha in rows:
                f = wanted[path]
                if (f.size, f.mtime_ns, f.ctime_ns, f.inode, f.device) == (
                    size,
                    mtime,
                    ctime,
                    inode,
                    device,
                ):
                    hits[path] = sha
        return hits

    def remember(self, entries: Iterable[tuple[SourceFile, str]]) -> None:
        fresh = (time.time() - RACY_SECONDS) * 1e9
        rows = [
            (f.path, f.size, f.mtime_ns, f.ctime_ns, f.inode, f.device, sha)
            for f, sha in entries
            if f.mtime_ns < fresh and f.ctime_ns < fresh
        ]
        with self._db:  # one transaction
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO stat_cache VALUES (?,?,?,?,?,?,?)", rows)

    def close(self) -> None:
        self._db.close()
