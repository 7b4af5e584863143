"""What the repositories of one unit of work share: its connection (so one
transaction), its workspace and its clock (one ``now`` for every row it writes)."""

from __future__ import annotations

from collections.abc import Collection, Iterable

import aiosqlite

_CHUNK = 500  # stays under SQLite's bound-parameter limit


def chunks(items: Collection[str]) -> Iterable[list[str]]:
    seq = list(items)
    for i in range(0, len(seq), _CHUNK):
        yield seq[i : i + _CHUNK]


class WorkspaceRepo:
    """A repository scoped to one workspace: every query names ``self.ws``."""

    def __init__(self, conn: aiosqlite.Connection, ws: str, now: float) -> None:
        self.conn = conn
        self.ws = ws
        self.now = now


class BoxRepo:
    """A repository of the box-wide rows (users, tokens, workspaces, the chain)."""

    def __init__(self, conn: aiosqlite.Connection, now: float) -> None:
        self.conn = conn
        self.now = now
