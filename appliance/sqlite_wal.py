"""Switching a SQLite file to WAL when several processes may open it at once, and
making the file private before SQLite first creates it.

Changing the journal mode needs an exclusive lock, and SQLite can answer
"database is locked" for it without waiting on the busy handler (seen when two
CLI commands create the same new file together). So retry for a while; once
the file is in WAL mode the pragma is a no-op that every later opener passes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

WAL_RETRY_SECONDS = 30.0
_PRAGMA = "PRAGMA journal_mode=WAL"


def create_private(path: Path) -> None:
    """Make ``path`` (0600) and its folder (0700) if missing. SQLite gives its WAL and
    shared-memory files the database file's own mode, whatever the umask, so the
    database file is made private before SQLite opens it; an existing one is kept."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600))


def _locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def enable_wal(execute: Callable[[str], Any]) -> None:
    deadline = time.monotonic() + WAL_RETRY_SECONDS
    while True:
        try:
            execute(_PRAGMA)
            return
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def enable_wal_async(execute: Callable[[str], Awaitable[Any]]) -> None:
    import asyncio

    deadline = time.monotonic() + WAL_RETRY_SECONDS
    while True:
        try:
            await execute(_PRAGMA)
            return
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
