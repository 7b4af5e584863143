"""Roles, permissions, credentials, the audit chain and cursors: pure logic."""

from __future__ import annotations

import itertools

import pytest

from appliance.domain.access import ROLES, Permission, allows, can_assign
from appliance.domain.audit_chain import GENESIS, entry_hash, verify_chain
from appliance.errors import InvalidInput
from appliance.services import credentials as cred
from appliance.web.pagination import decode_cursor, encode_cursor, int_cursor, page

pytestmark = pytest.mark.unit

P = Permission


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        ("viewer", P.DATASET_READ, True),
        ("viewer", P.DATASET_STAGE, False),
        ("annotator", P.DATASET_STAGE, True),
        ("annotator", P.DATASET_COMMIT, False),
        ("viewer", P.LABEL_WRITE, False),
        ("annotator", P.LABEL_WRITE, True),
        ("annotator", P.LABEL_REVIEW, False),
        ("reviewer", P.LABEL_REVIEW, True),
        ("device", P.LABEL_WRITE, False),
        ("reviewer", P.DATASET_COMMIT, True),
        ("reviewer", P.DATASET_DELETE, False),
        ("admin", P.DATASET_DELETE, True),
        ("admin", P.ERASURE_RUN, False),
        ("owner", P.ERASURE_RUN, True),
        ("device", P.DATASET_READ, False),
        ("nobody", P.WORKSPACE_READ, False),
    ],
)
def test_role_permission_table(role, permission, allowed):
    assert allows(role, permission) is allowed


def test_roles_nest_from_viewer_to_owner():
    order = ["viewer", "annotator", "reviewer", "admin", "owner"]
    for lower, higher in itertools.pairwise(order):
        assert ROLES[lower] < ROLES[higher]


@pytest.mark.parametrize(
    ("actor", "old", "new", "ok"),
    [
        ("owner", "admin", "owner", True),
        ("admin", "viewer", "reviewer", True),
        ("admin", "viewer", "admin", False),
        ("admin", "owner", None, False),
        ("reviewer", None, "viewer", False),
    ],
)
def test_who_may_assign_roles(actor, old, new, ok):
    assert can_assign(actor, old, new) is ok


def test_passwords_hash_with_salt_and_verify():
    a, b = cred.hash_password("correct horse"), cred.hash_password("correct horse")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert cred.check_password("correct horse", a)
    assert not cred.check_password("correct horsf", a)
    assert not cred.check_password("anything", "md5$nope")


def test_password_rules_name_the_problem():
    assert "10 characters" in (cred.password_problem("short", "u") or "")
    assert "user name" in (cred.password_problem("alice12345", "Alice12345") or "")
    assert cred.password_problem("a long enough one", "alice") is None


def test_tokens_store_only_a_hash_and_parse_back():
    token_id, token, stored = cred.new_token("pat")
    kind, tid, secret = cred.split_token(token)  # type: ignore[misc]
    assert (kind, tid) == ("pat", token_id)
    assert secret not in stored and cred.secret_matches(secret, stored)
    assert not cred.secret_matches(secret + "x", stored)
    for bad in ("", "bearer", "ahoy_pat", "ahoy_pat_x", "nope_pat_x.y", "x" * 300):
        assert cred.split_token(bad) is None


def _chain(n):
    rows, prev = [], GENESIS
    for i in range(1, n + 1):
        entry = {
            "id": i,
            "workspace": "w",
            "actor": "user:a",
            "action": "x",
            "target": f"t{i}",
            "outcome": "ok",
            "detail": {},
            "at": 1.5 * i,
        }
        h = entry_hash(prev, entry)
        rows.append((entry, prev, h))
        prev = h
    return rows


def test_an_intact_chain_verifies():
    assert verify_chain(_chain(5)).ok


def test_editing_an_entry_is_detected_at_that_entry():
    rows = _chain(5)
    rows[2][0]["target"] = "forged"
    check = verify_chain(rows)
    assert not check.ok and check.broken_at == 3 and "altered" in check.reason


def test_deleting_an_entry_is_detected_at_the_next():
    rows = _chain(5)
    del rows[1]
    check = verify_chain(rows)
    assert not check.ok and check.broken_at == 3


def test_entries_before_the_chain_existed_are_counted_not_failed():
    legacy = [({"id": 0}, "", "")]
    check = verify_chain(legacy + _chain(2))
    assert check.ok and check.unchained == 1


def test_cursor_pages_cover_the_list_once():
    items = list(range(25))
    seen, cursor = [], None
    while True:
        p = page(items, lambda x: x, cursor, 10)
        seen += p["items"]
        cursor = p["next_cursor"]
        if cursor is None:
            break
    assert seen == items


def test_descending_pages_and_bad_cursors():
    items = list(range(9, -1, -1))
    first = page(items, lambda x: x, None, 4, descending=True)
    second = page(items, lambda x: x, first["next_cursor"], 4, descending=True)
    assert first["items"] == [9, 8, 7, 6] and second["items"] == [5, 4, 3, 2]
    assert decode_cursor(encode_cursor(["a", 1])) == ["a", 1]
    with pytest.raises(InvalidInput):
        decode_cursor("!!!")
    with pytest.raises(InvalidInput):
        int_cursor(encode_cursor("x"))
    with pytest.raises(InvalidInput):
        page(items, lambda x: x, None, 0)


def test_the_chain_reports_its_head_so_a_cut_tail_can_be_caught_outside():
    rows = _chain(4)
    full, cut = verify_chain(rows), verify_chain(rows[:3])
    assert full.ok and cut.ok  # the chain alone cannot see its tail cut off
    assert full.head == rows[-1][2] and cut.head != full.head
    assert verify_chain([]).head == GENESIS
