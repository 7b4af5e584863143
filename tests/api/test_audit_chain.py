"""The audit log's hash chain, checked over HTTP while `ahoy serve` keeps running and
someone edits the catalog behind its back. Each test damages its own appliance."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import PASSWORD, Api, Server, log_in, set_up_admin

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
