"""Switching a SQLite file to WAL when several processes may open it at once.

Changing the journal mode needs an exclusive lock, and SQLite can answer
"database is locked" for it without waiting on the busy handler (seen when two
CLI commands create the same new file together). So retry for a while; once
the file is in WAL mode the pragma is a no-op that every later opener passes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

WAL_RETRY_SECONDS = 30.0
_PRAGMA = "PRAGMA journal_mode=WAL"


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
