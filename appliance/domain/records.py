"""Catalog records as plain value types (what the catalog returns)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from appliance.domain.split import SplitConfig


@dataclass(frozen=True, slots=True)
class Dataset:
    id: int
    workspace: str
    slug: str
    description: str
    split: SplitConfig
    created_at: float
    deleted_at: float | None = None


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    dataset_id: int
    number: int
    manifest_hash: str
    split: SplitConfig
    parent_id: int | None
    parent_number: int | None
    created_by: str
    message: str
    file_count: int
    total_bytes: int
    created_at: float
    tags: tuple[str, ...] = ()
    deleted_at: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "number": self.number,
            "manifest_hash": self.manifest_hash,
            "split": self.split.as_dict(),
            "parent": self.parent_number,
            "created_by": self.created_by,
            "message": self.message,
            "file_count": self.file_count,
            "total_bytes": self.total_bytes,
            "created_at": self.created_at,
            "tags": list(self.tags),
        }


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A file entering the working area: its name, content digest, size and role."""

    filename: str
    sha256: str
    size: int
    role: str
    label_sha256: str | None = None
    label_size: int = 0  # bytes of the label document, when there is one
    split: str | None = None  # pins the split; None keeps the file's pin (or hashes)


@dataclass(frozen=True, slots=True)
class StageResult:
    added: int
    updated: int
    unchanged: int
    removed: int

    def as_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


@dataclass(frozen=True, slots=True)
class Hold:
    holder_kind: str
    holder_ref: str


# Records the API sends as JSON objects as they are: TypedDicts, so callers index
# them and the wire shape is the record's keys.


class Derivation(TypedDict):
    """How a version was made from another (an augmentation's source and recipe)."""

    kind: str
    recipe_sha256: str
    recipe: dict[str, Any]
    run: str | None
    dataset: str
    version: int
    manifest_hash: str


class Erasure(TypedDict):
    reason: str
    actor: str
    erased_at: float


class AuditEntry(TypedDict):
    id: int
    workspace: str | None
    actor: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]
    at: float


class Job(TypedDict):
    id: str
    kind: str
    state: str
    params: dict[str, Any]
    progress: dict[str, Any]
    result: Any
    error: dict[str, Any] | None
    created_by: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    #: the resource request of a governed job (None: an in-process job)
    request: dict[str, Any] | None
    admission: dict[str, Any] | None
    devices: list[str]
    pgid: int | None
    cancel_requested_at: float | None


class ActiveJob(TypedDict):
    """A governed job queued or running, as the box-wide scheduler sees it."""

    workspace: str
    id: str
    kind: str
    state: str
    request: dict[str, Any]
    devices: list[str]
    pgid: int | None
    created_at: float
    cancel_requested_at: float | None
    admission: dict[str, Any] | None


class JobEvent(TypedDict):
    seq: int
    kind: str
    data: Any
    at: float


class Artifact(TypedDict):
    name: str
    sha256: str
    size: int


class Review(TypedDict):
    filename: str
    state: str
    label_sha256: str | None
    annotator: str | None
    reviewer: str | None
    comment: str | None
    updated_at: float


class StreamState(TypedDict):
    """An annotation event stream: its offset (highest applied position) and size."""

    stream: str
    offset: int | None
    events: int
    last_event_id: str | None
    updated_at: float | None


class Model(TypedDict):
    id: int
    name: str
    task: str
    created_by: str
    created_at: float


class ModelSummary(TypedDict):
    name: str
    task: str
    created_at: float
    latest: int | None
    versions: int
    #: tag name → the tagged version's id
    tags: dict[str, int]


class ModelVersion(TypedDict):
    id: int
    number: int
    dataset_version_id: int | None
    run_id: str | None
    source: str
    weights_sha256: str
    weights_size: int
    format: str
    metrics: dict[str, Any]
    code: dict[str, Any]
    config: dict[str, Any]
    created_by: str
    created_at: float
    model: str
    task: str
    parent_version_id: int | None
    #: an export's source version number (same model)
    parent: int | None
    tags: list[str]


class Evaluation(TypedDict):
    id: str
    job: str
    model_version_id: int
    dataset_version_id: int
    split: str
    summary: dict[str, Any]
    settings: dict[str, Any]
    created_by: str
    created_at: float
    model: str
    model_version: int
    format: str
    dataset: str
    version: int


class Webhook(TypedDict):
    id: str
    url: str
    events: list[str]
    created_by: str
    created_at: float


class Delivery(TypedDict):
    """One delivery attempt; ``error`` is the outcome's fixed wording."""

    id: int
    event_id: int
    type: str
    attempt: int
    outcome: str
    status_code: int | None
    duration_ms: float
    at: float
    error: str | None
