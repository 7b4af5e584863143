"""The audit log's hash chain: each entry's hash covers its fields and the previous
entry's hash, so editing, deleting or reordering any entry breaks every later hash.

The chain alone cannot see a rewrite that recomputes every hash after an edit, nor
its own tail cut off. Checkpoints close that: the appliance signs the head (entry
id and hash) now and then and writes it outside the catalog; a chain whose hash at
a checkpointed entry differs, or that ends before one, was rewritten or truncated.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from appliance.domain.canonical import canonical_json

GENESIS = "0" * 64


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """``entry`` holds id, workspace, actor, action, target, outcome, detail, at."""
    return hashlib.sha256(canonical_json({**entry, "prev": prev_hash})).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment: entry ``entry_id`` had hash ``head``."""

    entry_id: int
    head: str
    at: float

    def message(self) -> bytes:
        """The exact bytes the appliance key signs."""
        return canonical_json(
            {
                "kind": "ahoy.audit.checkpoint/1",
                "entry_id": self.entry_id,
                "head": self.head,
                "at": self.at,
            }
        )

    def as_dict(self) -> dict[str, object]:
        return {"entry_id": self.entry_id, "head": self.head, "at": self.at}


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    unchained: int  # entries written before the chain existed (schema v1)
    broken_at: int | None = None
    reason: str = ""
    #: The last entry's hash and id.
    head: str = GENESIS
    head_id: int = 0
    #: Signed checkpoints the chain was held against, and the newest of them.
    checkpoints: int = 0
    anchored: Checkpoint | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "unchained": self.unchained,
            "broken_at": self.broken_at,
            "reason": self.reason,
            "head": self.head,
            "head_id": self.head_id,
            "checkpoints": self.checkpoints,
            "anchored": self.anchored.as_dict() if self.anchored else None,
        }


def verify_chain(
    rows: Iterable[tuple[Mapping[str, Any], str, str]],
    checkpoints: Sequence[Checkpoint] = (),
) -> ChainCheck:
    """``rows``: (entry, prev_hash, entry_hash) in id order, over the whole log;
    ``checkpoints``: signed heads whose signatures the caller has already checked."""
    expected: dict[int, set[str]] = {}
    for c in checkpoints:
        expected.setdefault(c.entry_id, set()).add(c.head)
    pending = deque(sorted(expected))  # checkpointed ids not yet reached, ascending
    newest = max(checkpoints, key=lambda c: c.entry_id, default=None)
    prev = GENESIS
    count = unchained = last_id = 0
    chained = False

    def broken(at: int, reason: str) -> ChainCheck:
        return ChainCheck(
            False, count, unchained, at, reason, checkpoints=len(checkpoints), anchored=newest
        )

    for entry, stored_prev, stored_hash in rows:
        count += 1
        entry_id = int(entry["id"])
        while pending and pending[0] <= entry_id:
            if pending[0] < entry_id:
                return broken(
                    entry_id, f"entry {pending[0]}, covered by a signed checkpoint, is missing"
                )
            pending.popleft()
        last_id = entry_id
        if not stored_hash and not chained:
            unchained += 1
            continue
        chained = True
        if stored_prev != prev:
            return broken(entry_id, "an entry before it was removed or changed")
        if entry_hash(prev, entry) != stored_hash:
            return broken(entry_id, "this entry was altered")
        if expected.get(entry_id, {stored_hash}) != {stored_hash}:
            return broken(
                entry_id,
                "the log was rewritten: this entry's hash differs from the signed checkpoint",
            )
        prev = stored_hash
    if newest is not None and newest.entry_id > last_id:
        return broken(
            newest.entry_id,
            f"the log was cut off: it ends at entry {last_id}, but a signed checkpoint "
            f"covers entry {newest.entry_id}",
        )
    return ChainCheck(
        True,
        count,
        unchained,
        head=prev,
        head_id=last_id,
        checkpoints=len(checkpoints),
        anchored=newest,
    )
