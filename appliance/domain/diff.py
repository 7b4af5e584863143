"""What changed between two manifests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from appliance.domain.manifest import ManifestRow


@dataclass(frozen=True, slots=True)
class Change:
    filename: str
    old: ManifestRow | None
    new: ManifestRow | None

    @property
    def kinds(self) -> tuple[str, ...]:
        """For a modification: which of content, label, split changed."""
        if self.old is None or self.new is None:
            return ()
        kinds = []
        if self.old.sha256 != self.new.sha256:
            kinds.append("content")
        if self.old.label_sha256 != self.new.label_sha256:
            kinds.append("label")
        if self.old.split != self.new.split:
            kinds.append("split")
        if self.old.role != self.new.role:
            kinds.append("role")
        return tuple(kinds)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"filename": self.filename}
        if self.old is not None:
            out["old"] = {
                "sha256": self.old.sha256,
                "label_sha256": self.old.label_sha256,
                "split": self.old.split,
            }
        if self.new is not None:
            out["new"] = {
                "sha256": self.new.sha256,
                "label_sha256": self.new.label_sha256,
                "split": self.new.split,
            }
        if self.kinds:
            out["changed"] = list(self.kinds)
        return out


@dataclass(frozen=True, slots=True)
class ManifestDiff:
    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    modified: list[Change] = field(default_factory=list)
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.modified)

    def summary(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "modified": len(self.modified),
            "unchanged": self.unchanged,
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "summary": self.summary(),
            "added": [c.as_dict() for c in self.added],
            "removed": [c.as_dict() for c in self.removed],
            "modified": [c.as_dict() for c in self.modified],
        }


def diff_manifests(old: Iterable[ManifestRow], new: Iterable[ManifestRow]) -> ManifestDiff:
    """Rows are matched by filename; results are sorted by filename."""
    before = {r.filename: r for r in old}
    after = {r.filename: r for r in new}
    added, removed, modified = [], [], []
    unchanged = 0
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a is None:
            added.append(Change(name, None, b))
        elif b is None:
            removed.append(Change(name, a, None))
        elif a != b:
            modified.append(Change(name, a, b))
        else:
            unchanged += 1
    return ManifestDiff(added, removed, modified, unchanged)
