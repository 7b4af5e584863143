"""The annotation event streams of a dataset: which event ids each stream has
applied, at which position, and so the consumer offset to resume from."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from appliance.adapters.catalog.repo import WorkspaceRepo, chunks
from appliance.domain.records import StreamState

_SCOPE = "JOIN datasets d ON d.id = e.dataset_id WHERE e.dataset_id = ? AND e.stream = ?"


class SqliteStreams(WorkspaceRepo):
    async def offset(self, dataset_id: int, stream: str) -> int | None:
        cur = await self.conn.execute(
            f"SELECT MAX(e.position) FROM annotation_events e {_SCOPE} AND d.workspace_id = ?",
            (dataset_id, stream, self.ws),
        )
        row = await cur.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    async def state(self, dataset_id: int, stream: str) -> StreamState:
        cur = await self.conn.execute(
            "SELECT COUNT(*), MAX(e.position), MAX(e.received_at) FROM annotation_events e"
            f" {_SCOPE} AND d.workspace_id = ?",
            (dataset_id, stream, self.ws),
        )
        count, offset, updated = await cur.fetchone() or (0, None, None)
        last = None
        if count:
            cur = await self.conn.execute(
                f"SELECT e.event_id FROM annotation_events e {_SCOPE} AND d.workspace_id = ?"
                " ORDER BY e.position DESC, e.received_at DESC LIMIT 1",
                (dataset_id, stream, self.ws),
            )
            row = await cur.fetchone()
            last = row[0] if row else None
        return {
            "stream": stream,
            "offset": offset,
            "events": int(count or 0),
            "last_event_id": last,
            "updated_at": updated,
        }

    async def known_event_ids(
        self, dataset_id: int, stream: str, event_ids: Collection[str]
    ) -> set[str]:
        found: set[str] = set()
        for part in chunks(event_ids):
            cur = await self.conn.execute(
                f"SELECT e.event_id FROM annotation_events e {_SCOPE} AND d.workspace_id = ?"
                f" AND e.event_id IN ({','.join('?' * len(part))})",
                (dataset_id, stream, self.ws, *part),
            )
            found.update(r[0] for r in await cur.fetchall())
        return found

    async def add_events(
        self,
        dataset_id: int,
        stream: str,
        rows: Sequence[tuple[str, int, str, str, str | None]],
        actor: str,
    ) -> None:
        """``rows``: (event_id, position, filename, action, label_sha256)."""
        await self.conn.executemany(
            "INSERT INTO annotation_events (dataset_id, stream, event_id, position, filename,"
            " action, label_sha256, actor, received_at) SELECT d.id, ?, ?, ?, ?, ?, ?, ?, ?"
            " FROM datasets d WHERE d.id = ? AND d.workspace_id = ?",
            [
                (stream, eid, pos, name, action, sha, actor, self.now, dataset_id, self.ws)
                for eid, pos, name, action, sha in rows
            ],
        )
