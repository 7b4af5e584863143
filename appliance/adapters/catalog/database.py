"""SQLite discipline: WAL, one writer behind a lock running short BEGIN IMMEDIATE
transactions, and a separate reader connection.

Several processes (``ahoy serve``, a CLI, a job) may open the same file: WAL and a
busy timeout let them take turns; within one process the asyncio lock keeps a
single writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from appliance.adapters.catalog.migrations import MIGRATIONS
from appliance.sqlite_wal import create_private, enable_wal_async

BUSY_TIMEOUT_MS = 30_000
#: Concurrent snapshot readers (the web server serves requests concurrently; each
#: read transaction needs a connection of its own).
READERS = 4


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    await enable_wal_async(conn.execute)
    await conn.execute("PRAGMA synchronous=NORMAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    return conn


async def _begin(conn: aiosqlite.Connection, statement: str) -> None:
    """Start a transaction, first ending one a cancelled task left open.

    A task cancelled while awaiting BEGIN (a client that hangs up on a stream) gives
    the connection back, but aiosqlite's thread still runs the BEGIN: the connection
    comes back inside a transaction nobody will end. Nothing was done in it, so it
    is rolled back here."""
    try:
        await conn.execute(statement)
    except sqlite3.OperationalError:
        if not conn.in_transaction:
            raise
        await conn.execute("ROLLBACK")
        await conn.execute(statement)


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._write_lock = asyncio.Lock()

    async def open(self) -> Database:
        create_private(self.path)
        self._writer = await _connect(self.path)
        await self._migrate(self._writer)
        for _ in range(READERS):
            conn = await _connect(self.path)
            self._readers.append(conn)
            self._idle.put_nowait(conn)
        return self

    async def close(self) -> None:
        for conn in [*self._readers, self._writer]:
            if conn is not None:
                await conn.close()
        self._readers, self._writer = [], None
        self._idle = asyncio.Queue()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One short transaction holding the database write lock."""
        assert self._writer is not None, "Database.open() was not called"
        async with self._write_lock:
            await _begin(self._writer, "BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent snapshot for reads (a deferred transaction on the reader)."""
        assert self._readers, "Database.open() was not called"
        conn = await self._idle.get()
        try:
            await _begin(conn, "BEGIN")
            try:
                yield conn
            finally:
                await conn.execute("COMMIT")
        finally:
            self._idle.put_nowait(conn)

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
            )
            cur = await conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            (current,) = await cur.fetchone()  # type: ignore[misc]
            for version, name, sql in MIGRATIONS:
                if version <= current:
                    continue
                for statement in filter(str.strip, sql.split(";")):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, time.time())
                )
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")

    async def schema_version(self) -> int:
        async with self.read() as conn:
            cur = await conn.execute("SELECT MAX(version) FROM schema_migrations")
            row = await cur.fetchone()
            return int(row[0]) if row and row[0] is not None else 0
