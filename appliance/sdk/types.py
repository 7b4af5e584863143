"""The shapes the API answers with (docs/api.md), as TypedDicts, and the reports
of the SDK's own multi-call operations (upload, pull) as dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

from appliance.domain.jobs import TERMINAL

#: The states a job ends in (it never moves again).
TERMINAL_STATES = TERMINAL


class Page(TypedDict):
    items: list[Any]
    next_cursor: str | None


class JobProgress(TypedDict, total=False):
    done: int
    total: int
    unit: str


class Job(TypedDict, total=False):
    id: str
    kind: str
    state: str  # queued | running | succeeded | failed | cancelled
    progress: JobProgress
    result: Any
    error: Any
    created_at: Any
    started_at: Any
    finished_at: Any


class Split(TypedDict):
    """``SplitConfig.as_dict``: ``ratios`` is ``[[name, ratio], ...]`` in order."""

    ratios: list[list[Any]]
    seed: str


class Version(TypedDict, total=False):
    number: int
    manifest_hash: str
    split: Split
    parent: int | None
    created_by: str
    message: str
    file_count: int
    total_bytes: int
    created_at: Any
    tags: list[str]


class ManifestRow(TypedDict, total=False):
    filename: str
    sha256: str
    label_sha256: str | None
    role: str
    split: str


class StageResult(TypedDict):
    added: int
    updated: int
    unchanged: int
    removed: int


@dataclass(frozen=True)
class UploadReport:
    """What ``upload_tree`` did: files staged, bytes scanned, blobs it had to send."""

    dataset: str
    files: int
    bytes: int
    uploaded_blobs: int
    uploaded_bytes: int
    staged: dict[str, Any]
    #: a folder ``pull`` wrote: which version, its label documents, its split
    pulled: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(d.pop("staged"))
        d["new_blobs"] = self.uploaded_blobs  # scripts read it from `ahoy dataset import --json`
        return d


@dataclass(frozen=True)
class PullReport:
    """What ``pull`` wrote: every file verified against the manifest's sha256, every
    label document against its label_sha256; ``meta`` is the folder holding the
    manifest and the label documents (None for a bare pull)."""

    version: int
    manifest_hash: str
    files: int
    bytes: int
    erased: list[dict[str, Any]] = field(default_factory=list)
    labels: int = 0
    meta: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
