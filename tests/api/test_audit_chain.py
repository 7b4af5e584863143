"""The audit log's hash chain, checked over HTTP while `ahoy serve` keeps running and
someone edits the catalog behind its back. Each test damages its own appliance."""

from __future__ import annotations

import base64
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.domain.audit_chain import Checkpoint, entry_hash
from tests.api.conftest import ADMIN, ADMIN_PW, PASSWORD, Api, Server, log_in, set_up_admin

pytestmark = pytest.mark.api


def _busy_appliance(server: Server) -> Api:
    """An admin who has done a few audited things, and a user who was refused some."""
    admin = set_up_admin(server)
    admin.ok("POST", "/v1/workspaces", 201, json={"id": "audited"})
    admin.ok("POST", "/v1/users", 201, json={"username": "dana", "password": PASSWORD})
    admin.ok("PUT", "/v1/workspaces/audited/members/dana", json={"role": "viewer"})
    admin.ok("POST", "/v1/workspaces/audited/datasets", 201, json={"name": "logged"})
    dana = log_in(server, "dana")
    assert dana.post("/v1/workspaces/audited/datasets", json={"name": "no"}).status_code == 403
    assert dana.get("/v1/workspaces/default/datasets").status_code == 404
    admin.ok("PUT", "/v1/workspaces/audited/members/dana", json={"role": "annotator"})
    return admin


def _verify(admin: Api) -> dict[str, Any]:
    return admin.ok("GET", "/v1/audit/verify")  # type: ignore[no-any-return]


def _middle(server: Server) -> int:
    ids = [row[0] for row in server.sql("SELECT id FROM audit_log ORDER BY id")]
    assert len(ids) >= 8
    return ids[len(ids) // 2]


def test_an_untouched_chain_verifies(own_server: Server):
    admin = _busy_appliance(own_server)
    check = _verify(admin)
    assert check == {**check, "ok": True, "broken_at": None, "reason": ""}
    (count,) = own_server.sql("SELECT COUNT(*) FROM audit_log")[0]
    assert check["entries"] == count >= 8
    denied = own_server.sql("SELECT actor FROM audit_log WHERE outcome = 'denied'")
    assert ("user:dana",) in denied


def test_an_edited_entry_is_found(own_server: Server):
    admin = _busy_appliance(own_server)
    target = _middle(own_server)
    (original,) = own_server.sql("SELECT target FROM audit_log WHERE id = ?", target)[0]
    own_server.sql("UPDATE audit_log SET target = ? WHERE id = ?", "nothing-to-see", target)

    check = _verify(admin)
    assert (check["ok"], check["broken_at"]) == (False, target)
    assert check["reason"] == "this entry was altered"

    # The appliance goes on (and goes on chaining) while the damage is reported.
    admin.ok("POST", "/v1/workspaces/audited/datasets", 201, json={"name": "after"})
    assert _verify(admin)["broken_at"] == target
    own_server.sql("UPDATE audit_log SET target = ? WHERE id = ?", original, target)
    assert _verify(admin)["ok"] is True


def test_a_deleted_entry_is_found(own_server: Server):
    admin = _busy_appliance(own_server)
    gone = _middle(own_server)
    (after,) = own_server.sql("SELECT MIN(id) FROM audit_log WHERE id > ?", gone)[0]
    own_server.sql("DELETE FROM audit_log WHERE id = ?", gone)

    check = _verify(admin)
    assert (check["ok"], check["broken_at"]) == (False, after)
    assert check["reason"] == "an entry before it was removed or changed"


# -- signed checkpoints: what the chain alone cannot see ----------------------------


@pytest.fixture
def anchored_server(tmp_path: Path) -> Iterator[tuple[Server, socket.socket]]:
    """A private appliance that checkpoints every 0.2 s and also sends the
    checkpoints to a syslog receiver (a UDP socket of the test's)."""
    syslog = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    syslog.bind(("127.0.0.1", 0))
    syslog.settimeout(10)
    server = Server(
        tmp_path,
        blob_store="local",
        AHOY_AUDIT_CHECKPOINT_SECONDS="0.2",
        AHOY_AUDIT_SYSLOG=f"udp:127.0.0.1:{syslog.getsockname()[1]}",
    )
    server.start()
    try:
        yield server, syslog
    finally:
        server.stop()
        syslog.close()


def _checkpoints(server: Server) -> list[dict[str, Any]]:
    path = server.data_dir / "audit" / "audit-checkpoints.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _anchored(server: Server) -> int:
    """Wait until a checkpoint covers the newest entry; its id."""
    (head,) = server.sql("SELECT MAX(id) FROM audit_log")[0]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if any(c["entry_id"] == head for c in _checkpoints(server)):
            return int(head)
        time.sleep(0.1)
    raise AssertionError(f"no checkpoint reached entry {head}: {_checkpoints(server)}")


def _rewrite_from(server: Server, first: int, target: str) -> None:
    """Edit one entry and recompute every hash from there on: a careful forger."""
    rows = server.sql(
        "SELECT id, workspace_id, actor, action, target, outcome, detail_json, at, prev_hash "
        "FROM audit_log WHERE id >= ? ORDER BY id",
        first,
    )
    prev = rows[0][8]
    for r in rows:
        entry = {
            "id": r[0],
            "workspace": r[1],
            "actor": r[2],
            "action": r[3],
            "target": target if r[0] == first else r[4],
            "outcome": r[5],
            "detail": json.loads(r[6]),
            "at": r[7],
        }
        new = entry_hash(prev, entry)
        server.sql(
            "UPDATE audit_log SET target = ?, prev_hash = ?, entry_hash = ? WHERE id = ?",
            entry["target"],
            prev,
            new,
            r[0],
        )
        prev = new


def test_a_rewrite_with_every_hash_recomputed_is_found_by_the_checkpoint(anchored_server):
    server, _ = anchored_server
    admin = _busy_appliance(server)
    head = _anchored(server)
    target = _middle(server)
    server.stop()  # nothing else writes while the forger works
    _rewrite_from(server, target, "nothing-to-see")
    server.start()
    admin = log_in(server, ADMIN, ADMIN_PW)

    # The first checkpoint at or after the edited entry is where it shows.
    first = min(c["entry_id"] for c in _checkpoints(server) if c["entry_id"] >= target)
    assert first <= head
    check = _verify(admin)
    assert (check["ok"], check["broken_at"]) == (False, first)
    assert check["reason"] == (
        "the log was rewritten: this entry's hash differs from the signed checkpoint"
    )


def test_a_cut_tail_is_found_by_the_checkpoint(anchored_server):
    server, _ = anchored_server
    admin = _busy_appliance(server)
    head = _anchored(server)
    server.stop()
    server.sql("DELETE FROM audit_log WHERE id > ?", head - 3)
    server.start()
    admin = log_in(server, ADMIN, ADMIN_PW)

    check = _verify(admin)
    assert check["ok"] is False
    assert "cut off" in check["reason"] or "rewritten" in check["reason"]
    # the entries appended since the restart reuse the cut ids; either way the
    # checkpoint that covered the old head no longer matches
    assert check["broken_at"] <= head


def test_checkpoints_reach_syslog_signed_and_an_edited_checkpoint_file_is_reported(
    anchored_server,
):
    server, syslog = anchored_server
    admin = _busy_appliance(server)
    head = _anchored(server)
    check = _verify(admin)
    assert check["ok"] is True and check["anchored"]["entry_id"] >= head
    assert check["checkpoints"] >= 1

    # The syslog copy verifies with the public key the appliance publishes.
    message = syslog.recv(65536).decode().rstrip("\x00")
    line = json.loads(message[message.index("{") :])
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(check["public_key"]))
    cp = Checkpoint(line["entry_id"], line["head"], line["at"])
    public.verify(base64.b64decode(line["sig"]), cp.message())  # raises if forged
    assert line["key_id"] == check["key_id"]

    path = server.data_dir / "audit" / "audit-checkpoints.jsonl"
    lines = path.read_text().splitlines()
    lines[0] = json.dumps(json.loads(lines[0]) | {"head": "0" * 64})
    path.write_text("\n".join(lines) + "\n")
    check = _verify(admin)
    assert check["ok"] is False
    assert "the checkpoint file was edited" in check["reason"]
