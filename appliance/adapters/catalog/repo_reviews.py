"""Annotation work on the working area: each file's review state, and the activity
log (saves, submissions, reviews) that per-annotator statistics are read from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from appliance.adapters.catalog.repo import WorkspaceRepo
from appliance.domain.labels.review_stats import Activity
from appliance.domain.records import Review

#: Every write names the dataset through its workspace: another tenant's id writes nothing.
_IN_WS = " FROM datasets d WHERE d.id = ? AND d.workspace_id = ?"
_COLUMNS = "filename, state, label_sha256, annotator, reviewer, comment, updated_at"
_ACTIVITY_KEYS = ("filename", "actor", "action", "label_sha256", "comment", "at")
_ACTIVITY = ", ".join(f"a.{k}" for k in _ACTIVITY_KEYS)


def _review(r: Any) -> Review:
    return Review(
        filename=r[0],
        state=r[1],
        label_sha256=r[2],
        annotator=r[3],
        reviewer=r[4],
        comment=r[5],
        updated_at=r[6],
    )


def _activity(r: Any) -> Activity:
    return Activity(
        filename=r[0], actor=r[1], action=r[2], at=r[5], label_sha256=r[3], comment=r[4]
    )


class SqliteReviews(WorkspaceRepo):
    async def get(self, dataset_id: int, filename: str) -> Review | None:
        cur = await self.conn.execute(
            f"SELECT {_COLUMNS} FROM label_reviews r JOIN datasets d ON d.id = r.dataset_id"
            " WHERE r.dataset_id = ? AND r.filename = ? AND d.workspace_id = ?",
            (dataset_id, filename, self.ws),
        )
        row = await cur.fetchone()
        return _review(row) if row else None

    async def by_file(self, dataset_id: int) -> dict[str, Review]:
        cur = await self.conn.execute(
            f"SELECT {_COLUMNS} FROM label_reviews r JOIN datasets d ON d.id = r.dataset_id"
            " WHERE r.dataset_id = ? AND d.workspace_id = ?",
            (dataset_id, self.ws),
        )
        return {row[0]: _review(row) for row in await cur.fetchall()}

    async def set(
        self,
        dataset_id: int,
        filename: str,
        state: str,
        label_sha256: str | None,
        *,
        annotator: str | None = None,
        reviewer: str | None = None,
        comment: str | None = None,
    ) -> None:
        """Upsert; ``annotator`` None keeps the one on record (a review does not change it)."""
        await self._upsert_reviews(
            dataset_id, [(filename, state, label_sha256, annotator, reviewer, comment)]
        )

    async def set_many(
        self, dataset_id: int, rows: Sequence[tuple[str, str, str | None, str | None]]
    ) -> None:
        """Many at once (a batch of label changes): ``rows`` are (filename, state,
        label_sha256, annotator), as ``set_review`` with no reviewer and no comment."""
        await self._upsert_reviews(dataset_id, [(*row, None, None) for row in rows])

    async def _upsert_reviews(
        self,
        dataset_id: int,
        rows: Sequence[tuple[str, str, str | None, str | None, str | None, str | None]],
    ) -> None:
        await self.conn.executemany(
            "INSERT INTO label_reviews (dataset_id, filename, state, label_sha256, annotator,"
            f" reviewer, comment, updated_at) SELECT d.id, ?, ?, ?, ?, ?, ?, ?{_IN_WS}"
            " ON CONFLICT (dataset_id, filename) DO UPDATE SET state = excluded.state,"
            " label_sha256 = excluded.label_sha256,"
            " annotator = coalesce(excluded.annotator, label_reviews.annotator),"
            " reviewer = excluded.reviewer, comment = excluded.comment,"
            " updated_at = excluded.updated_at",
            [(*row, self.now, dataset_id, self.ws) for row in rows],
        )

    async def add_activity(
        self,
        dataset_id: int,
        filename: str,
        actor: str,
        action: str,
        label_sha256: str | None,
        comment: str | None = None,
    ) -> None:
        await self._insert_activity(dataset_id, [(filename, actor, action, label_sha256, comment)])

    async def add_activities(
        self, dataset_id: int, rows: Sequence[tuple[str, str, str, str | None]]
    ) -> None:
        """Many at once: ``rows`` are (filename, actor, action, label_sha256)."""
        await self._insert_activity(dataset_id, [(*row, None) for row in rows])

    async def _insert_activity(
        self, dataset_id: int, rows: Sequence[tuple[str, str, str, str | None, str | None]]
    ) -> None:
        await self.conn.executemany(
            "INSERT INTO label_activity (dataset_id, filename, actor, action, label_sha256,"
            f" comment, at) SELECT d.id, ?, ?, ?, ?, ?, ?{_IN_WS}",
            [(*row, self.now, dataset_id, self.ws) for row in rows],
        )

    async def activity(
        self, dataset_id: int, filename: str | None = None, limit: int | None = None
    ) -> list[Activity]:
        """The activity log, oldest first; one file's, and only its last ``limit``
        entries, when asked."""
        where, args = "a.dataset_id = ? AND d.workspace_id = ?", [dataset_id, self.ws]
        if filename is not None:
            where += " AND a.filename = ?"
            args.append(filename)
        order = " ORDER BY a.at DESC, a.id DESC LIMIT ?" if limit is not None else ""
        if limit is not None:
            args.append(limit)
        cur = await self.conn.execute(
            f"SELECT {_ACTIVITY} FROM label_activity a JOIN datasets d ON d.id = a.dataset_id"
            f" WHERE {where}{order or ' ORDER BY a.at, a.id'}",
            args,
        )
        rows = [_activity(r) for r in await cur.fetchall()]
        return rows[::-1] if limit is not None else rows
