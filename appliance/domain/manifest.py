"""The frozen manifest of a dataset version and its fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from appliance.domain.canonical import canonical_json
from appliance.domain.split import SplitConfig, assign_split


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """One file of a version: what it is called, what it holds, and where it trains."""

    filename: str
    sha256: str
    label_sha256: str | None
    role: str
    split: str

    def as_dict(self) -> dict[str, str | None]:
        return {
            "filename": self.filename,
            "label_sha256": self.label_sha256,
            "role": self.role,
            "sha256": self.sha256,
            "split": self.split,
        }


@dataclass(frozen=True, slots=True)
class WorkingFile:
    """One file of the mutable working area, before a split is assigned.

    ``split`` pins the file to a split (an augmented copy belongs to its original's
    train split wherever its own bytes would hash); ``None`` means by content hash."""

    filename: str
    sha256: str
    label_sha256: str | None
    role: str
    split: str | None = None


def fingerprint(rows: Iterable[ManifestRow]) -> str:
    """``manifest_hash``: sha256 of the canonical JSON array of rows sorted by filename.

    Filenames sort by Unicode code point (Python's ``str`` order), never by a
    database collation, so every catalog adapter computes the same value.
    """
    ordered = sorted(rows, key=lambda r: r.filename)
    return hashlib.sha256(canonical_json([r.as_dict() for r in ordered])).hexdigest()


def freeze(files: Iterable[WorkingFile], split: SplitConfig) -> list[ManifestRow]:
    """Assign each working file its pinned split, or else its content-hash split;
    sorted by filename."""
    return sorted(
        (
            ManifestRow(
                f.filename,
                f.sha256,
                f.label_sha256,
                f.role,
                f.split or assign_split(split, f.sha256),
            )
            for f in files
        ),
        key=lambda r: r.filename,
    )
