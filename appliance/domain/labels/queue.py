"""The annotation queue: the working area's images with their review state, filtered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from appliance.domain.labels.review import STATES, current_state, is_stale
from appliance.domain.manifest import WorkingFile

IMAGE = "image"


@dataclass(frozen=True, slots=True)
class QueueItem:
    path: str
    sha256: str
    label_sha256: str | None
    state: str
    #: a review state was recorded, but about labels the file no longer has
    stale: bool = False
    annotator: str | None = None
    reviewer: str | None = None
    comment: str | None = None
    updated_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "label_sha256": self.label_sha256,
            "state": self.state,
            "stale": self.stale,
            "annotator": self.annotator,
            "reviewer": self.reviewer,
            "comment": self.comment,
            "updated_at": self.updated_at,
        }


def queue_item(f: WorkingFile, review: Mapping[str, Any] | None) -> QueueItem:
    """``review``: the row recorded for the file (state, label_sha256, annotator,
    reviewer, comment, updated_at), or None."""
    if review is None:
        state = current_state(None, f.label_sha256, f.label_sha256)
        return QueueItem(f.filename, f.sha256, f.label_sha256, state)
    reviewed = review.get("label_sha256")
    return QueueItem(
        f.filename,
        f.sha256,
        f.label_sha256,
        current_state(review.get("state"), reviewed, f.label_sha256),
        is_stale(reviewed, f.label_sha256),
        review.get("annotator"),
        review.get("reviewer"),
        review.get("comment"),
        review.get("updated_at"),
    )


def check_state(state: str | None) -> str | None:
    """The state filter, or the reason it is not one."""
    if state is None or state in STATES:
        return None
    return f"state {state!r} is not one of {', '.join(STATES)}"


def build_queue(
    working: Iterable[WorkingFile],
    reviews: Mapping[str, Mapping[str, Any]],
    *,
    state: str | None = None,
    annotator: str | None = None,
    prefix: str | None = None,
) -> list[QueueItem]:
    """The images of the working area, sorted by path, optionally only those in
    ``state``, last worked on by ``annotator``, or under ``prefix``."""
    items = []
    for f in sorted(working, key=lambda w: w.filename):
        if f.role != IMAGE or (prefix and not f.filename.startswith(prefix)):
            continue
        item = queue_item(f, reviews.get(f.filename))
        if state is not None and item.state != state:
            continue
        if annotator is not None and item.annotator != annotator:
            continue
        items.append(item)
    return items
