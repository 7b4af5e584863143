"""What the repositories of one unit of work share: its connection (so one
transaction), its workspace and its clock (one ``now`` for every row it writes),
and the check that a row named by id is one of the workspace's."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Literal

import aiosqlite

from appliance.errors import NotFound

_CHUNK = 500  # stays under SQLite's bound-parameter limit

Owned = Literal["dataset", "version", "model", "model version", "job", "webhook"]

#: For each kind of row a method takes by id: a condition, with two parameters (the
#: id, then the workspace), true when that row is the workspace's. It names no
#: column of the statement around it, so SQLite evaluates it once per statement.
OWNED: dict[Owned, str] = {
    "dataset": "EXISTS (SELECT 1 FROM datasets WHERE id = ? AND workspace_id = ?)",
    "version": (
        "EXISTS (SELECT 1 FROM dataset_versions ov JOIN datasets od ON od.id = ov.dataset_id"
        " WHERE ov.id = ? AND od.workspace_id = ?)"
    ),
    "model": "EXISTS (SELECT 1 FROM models WHERE id = ? AND workspace_id = ?)",
    "model version": (
        "EXISTS (SELECT 1 FROM model_versions omv JOIN models om ON om.id = omv.model_id"
        " WHERE omv.id = ? AND om.workspace_id = ?)"
    ),
    "job": "EXISTS (SELECT 1 FROM jobs WHERE id = ? AND workspace_id = ?)",
    "webhook": "EXISTS (SELECT 1 FROM webhooks WHERE id = ? AND workspace_id = ?)",
}


def chunks(items: Collection[str]) -> Iterable[list[str]]:
    seq = list(items)
    for i in range(0, len(seq), _CHUNK):
        yield seq[i : i + _CHUNK]


class WorkspaceRepo:
    """A repository scoped to one workspace: every query names ``self.ws``, and a
    row id of another workspace is one this workspace does not have."""

    def __init__(self, conn: aiosqlite.Connection, ws: str, now: float) -> None:
        self.conn = conn
        self.ws = ws
        self.now = now

    async def require(self, kind: Owned, row_id: int | str) -> None:
        """Raise NotFound unless ``row_id`` names a ``kind`` of this workspace."""
        cur = await self.conn.execute(f"SELECT {OWNED[kind]}", (row_id, self.ws))
        row = await cur.fetchone()
        if not (row and row[0]):
            raise NotFound(kind, str(row_id))


class BoxRepo:
    """A repository of the box-wide rows (users, tokens, workspaces, the chain)."""

    def __init__(self, conn: aiosqlite.Connection, now: float) -> None:
        self.conn = conn
        self.now = now
