"""Signed checkpoints hold the audit chain against rewrites and cut tails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appliance.adapters.signing.appliance_key import KEY_FILE, ApplianceKey
from appliance.adapters.signing.checkpoint_log import CheckpointLog
from appliance.domain.audit_chain import GENESIS, Checkpoint, entry_hash, verify_chain

pytestmark = pytest.mark.unit


def _chain(
    n: int, *, altered: dict[int, str] | None = None
) -> list[tuple[dict[str, Any], str, str]]:
    """``n`` well-chained rows; ``altered`` changes targets and recomputes every hash
    after them, as someone rewriting the log would."""
    rows, prev = [], GENESIS
    for i in range(1, n + 1):
        target = (altered or {}).get(i, f"thing-{i}")
        entry = {
            "id": i,
            "workspace": "w",
            "actor": "a",
            "action": "x",
            "target": target,
            "outcome": "ok",
            "detail": {},
            "at": float(i),
        }
        h = entry_hash(prev, entry)
        rows.append((entry, prev, h))
        prev = h
    return rows


def _cp(rows: list[tuple[dict[str, Any], str, str]], entry_id: int) -> Checkpoint:
    return Checkpoint(entry_id, rows[entry_id - 1][2], 100.0)


def test_a_chain_that_matches_its_checkpoints_verifies():
    rows = _chain(10)
    check = verify_chain(rows, [_cp(rows, 4), _cp(rows, 9)])
    assert (check.ok, check.checkpoints, check.head_id) == (True, 2, 10)
    assert check.anchored == _cp(rows, 9)


def test_a_rewritten_chain_is_internally_consistent_but_fails_its_checkpoint():
    rows = _chain(10)
    anchor = _cp(rows, 8)
    rewritten = _chain(10, altered={5: "nothing-to-see"})
    assert verify_chain(rewritten).ok  # what the chain alone cannot see
    check = verify_chain(rewritten, [anchor])
    assert (check.ok, check.broken_at) == (False, 8)
    assert "rewritten" in check.reason


def test_a_rewrite_after_the_newest_checkpoint_is_not_seen():
    rows = _chain(10)
    assert verify_chain(_chain(10, altered={9: "later"}), [_cp(rows, 8)]).ok


@pytest.mark.parametrize("keep", [7, 3, 0])
def test_a_cut_tail_is_found(keep: int):
    rows = _chain(10)
    check = verify_chain(rows[:keep], [_cp(rows, 8)])
    assert (check.ok, check.broken_at) == (False, 8)
    assert check.reason == (
        f"the log was cut off: it ends at entry {keep}, but a signed checkpoint covers entry 8"
    )


def test_a_removed_checkpointed_entry_is_named():
    rows = _chain(10)
    cut = rows[:4] + rows[5:]  # entry 5 gone, the rest re-linked by hand
    check = verify_chain(cut, [_cp(rows, 5)])
    assert (check.ok, check.broken_at) == (False, 6)
    assert check.reason == "entry 5, covered by a signed checkpoint, is missing"


def test_the_key_is_made_once_private_and_reloaded(tmp_path: Path):
    keys = tmp_path / "keys"
    first = ApplianceKey.load_or_create(keys)
    again = ApplianceKey.load_or_create(keys)
    assert first.key_id == again.key_id
    assert (keys / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert keys.stat().st_mode & 0o777 == 0o700
    assert again.verify(first.sign(b"m"), b"m") and not again.verify(first.sign(b"m"), b"n")


def test_checkpoint_lines_are_signed_and_edits_are_rejected(tmp_path: Path):
    key = ApplianceKey.load_or_create(tmp_path / "keys")
    path = tmp_path / "audit" / "cp.jsonl"
    log = CheckpointLog(path, key)
    log.append(Checkpoint(3, "a" * 64, 1.0))
    log.append(Checkpoint(7, "b" * 64, 2.0))
    assert path.stat().st_mode & 0o777 == 0o600
    assert [c.entry_id for c in log.read().checkpoints] == [3, 7]

    lines = path.read_text().splitlines()
    forged = json.loads(lines[1]) | {"head": "c" * 64}
    other = CheckpointLog(tmp_path / "x.jsonl", ApplianceKey.load_or_create(tmp_path / "k2"))
    other.append(Checkpoint(9, "d" * 64, 3.0))
    path.write_text(
        "\n".join([lines[0], json.dumps(forged), "junk", (tmp_path / "x.jsonl").read_text()])
    )
    read = log.read()
    assert [c.entry_id for c in read.checkpoints] == [3]
    assert read.rejected == [
        "cp.jsonl line 2: its signature does not match: the checkpoint file was edited",
        "cp.jsonl line 3: not a checkpoint line",
        f"cp.jsonl line 4: signed by another key ({other.key_id!r})",
    ]


def test_a_rewrite_signed_again_later_still_disagrees_with_the_first_signature():
    """A restart signs whatever head it finds; the earlier checkpoint of the same
    entry still stands, and the two disagree."""
    rows = _chain(10)
    rewritten = _chain(10, altered={5: "nothing-to-see"})
    check = verify_chain(rewritten, [_cp(rows, 10), _cp(rewritten, 10)])
    assert (check.ok, check.broken_at, check.checkpoints) == (False, 10, 2)
    assert "rewritten" in check.reason
