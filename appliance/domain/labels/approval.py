"""Which files a commit limited to approved images takes (``commit --only-approved``).

For each image of the working area:

- approved, about exactly its current labels → the working entry;
- otherwise, if the head version has that path → the head's entry, content and
  labels as they were frozen (the unapproved change waits for the next commit);
- otherwise → left out (it was never committed, and is not approved yet).

Files removed from the working area stay removed. Files that are not images carry
no labels and are never reviewed, so they are taken as the working area has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from appliance.domain.manifest import ManifestRow, WorkingFile

IMAGE = "image"


@dataclass(frozen=True, slots=True)
class Selection:
    files: list[WorkingFile]
    approved: list[str] = field(default_factory=list)
    #: unapproved images the head has as the working area does: nothing to hold back
    unchanged: list[str] = field(default_factory=list)
    #: images whose head entry stands in for an unapproved change
    from_head: list[str] = field(default_factory=list)
    #: images left out: not approved and not in the head version
    omitted: list[str] = field(default_factory=list)

    @property
    def held_back(self) -> int:
        """Working-area images whose working entry this commit does not take."""
        return len(self.from_head) + len(self.omitted)


def is_approved(approved: Mapping[str, str | None], f: WorkingFile) -> bool:
    """``approved``: filename → the label_sha256 a reviewer approved."""
    return f.label_sha256 is not None and approved.get(f.filename) == f.label_sha256


def select_approved(
    working: Iterable[WorkingFile],
    approved: Mapping[str, str | None],
    head: Mapping[str, ManifestRow],
) -> Selection:
    """The files to freeze, sorted by name, and why each image was chosen."""
    out = Selection([])
    for f in sorted(working, key=lambda w: w.filename):
        if f.role != IMAGE:
            out.files.append(f)
        elif is_approved(approved, f):
            out.files.append(f)
            out.approved.append(f.filename)
        elif (old := head.get(f.filename)) is not None:
            kept = WorkingFile(old.filename, old.sha256, old.label_sha256, old.role, f.split)
            out.files.append(kept)
            (out.unchanged if kept == f else out.from_head).append(f.filename)
        else:
            out.omitted.append(f.filename)
    return out
