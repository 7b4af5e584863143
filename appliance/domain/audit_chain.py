"""The audit log's hash chain: each entry's hash covers its fields and the previous
entry's hash, so editing, deleting or reordering any entry breaks every later hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from appliance.domain.canonical import canonical_json

GENESIS = "0" * 64


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    """``entry`` holds id, workspace, actor, action, target, outcome, detail, at."""
    return hashlib.sha256(canonical_json({**entry, "prev": prev_hash})).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    unchained: int  # entries written before the chain existed (schema v1)
    broken_at: int | None = None
    reason: str = ""
    #: The last entry's hash. The chain cannot see its own tail cut off: keep this
    #: somewhere else (a monitor, a printout) and compare it later.
    head: str = GENESIS

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "unchained": self.unchained,
            "broken_at": self.broken_at,
            "reason": self.reason,
            "head": self.head,
        }


def verify_chain(rows: Iterable[tuple[dict[str, Any], str, str]]) -> ChainCheck:
    """``rows``: (entry, prev_hash, entry_hash) in id order, over the whole log."""
    prev = GENESIS
    count = unchained = 0
    chained = False
    for entry, stored_prev, stored_hash in rows:
        count += 1
        if not stored_hash and not chained:
            unchained += 1
            continue
        chained = True
        if stored_prev != prev:
            return ChainCheck(
                False, count, unchained, entry["id"], "an entry before it was removed or changed"
            )
        if entry_hash(prev, entry) != stored_hash:
            return ChainCheck(False, count, unchained, entry["id"], "this entry was altered")
        prev = stored_hash
    return ChainCheck(True, count, unchained, head=prev)
