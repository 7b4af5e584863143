"""Catalog records as plain value types (what the catalog returns)."""

from __future__ import annotations

from dataclasses import dataclass

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
