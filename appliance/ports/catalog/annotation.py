"""Annotation work on a dataset: its label schema, each file's review state and the
activity log, and the event streams that apply label changes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

from appliance.domain.labels.review_stats import Activity
from appliance.domain.records import Review, StreamState


class LabelSchemas(Protocol):
    async def schema(self, dataset_id: int) -> dict[str, Any] | None:
        """The stored schema document (``schema_to_dict``'s shape, with any COCO extras);
        None: none yet (or a dataset of another workspace)."""

    async def set_schema(self, dataset_id: int, schema: dict[str, Any], actor: str) -> None:
        """Raises NotFound for a dataset of another workspace."""


class Reviews(Protocol):
    """Every write names the dataset through the workspace: another tenant's
    dataset id writes nothing."""

    async def get(self, dataset_id: int, filename: str) -> Review | None: ...
    async def by_file(self, dataset_id: int) -> dict[str, Review]:
        """Every review of the dataset, by filename."""

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

    async def set_many(
        self, dataset_id: int, rows: Sequence[tuple[str, str, str | None, str | None]]
    ) -> None:
        """Many ``set`` calls in one: (filename, state, label_sha256, annotator)."""

    async def add_activity(
        self,
        dataset_id: int,
        filename: str,
        actor: str,
        action: str,
        label_sha256: str | None,
        comment: str | None = None,
    ) -> None: ...
    async def add_activities(
        self, dataset_id: int, rows: Sequence[tuple[str, str, str, str | None]]
    ) -> None:
        """Many ``add_activity`` calls in one: (filename, actor, action, label_sha256)."""

    async def activity(
        self, dataset_id: int, filename: str | None = None, limit: int | None = None
    ) -> list[Activity]:
        """The activity log oldest first (one file's last ``limit`` entries if asked)."""


class Streams(Protocol):
    """Annotation event streams (position: where an event sits in its stream). A
    dataset id of another workspace reads nothing and writes nothing."""

    async def offset(self, dataset_id: int, stream: str) -> int | None:
        """The highest position the stream has applied; None while it has none."""

    async def state(self, dataset_id: int, stream: str) -> StreamState:
        """Zeros and None for a stream that has nothing yet."""

    async def known_event_ids(
        self, dataset_id: int, stream: str, event_ids: Collection[str]
    ) -> set[str]:
        """Those of ``event_ids`` the stream has applied."""

    async def add_events(
        self,
        dataset_id: int,
        stream: str,
        rows: Sequence[tuple[str, int, str, str, str | None]],
        actor: str,
    ) -> None:
        """``rows``: (event_id, position, filename, action, label_sha256)."""
