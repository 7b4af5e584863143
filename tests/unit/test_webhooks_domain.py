"""Webhook events, patterns, signatures and backoff: pure, no I/O."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from appliance.domain import webhooks as wh

pytestmark = pytest.mark.unit

SECRET = "s3cret-value"
BODY = b'{"id":7,"type":"version.created"}'
NOW = 1_700_000_000


def test_signature_round_trip():
    header = wh.sign(SECRET, NOW, BODY)
    assert wh.verify_signature(SECRET, header, BODY, now=NOW + 10)


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert wh.sign(SECRET, NOW, BODY) == f"t={NOW},v1={expected}"


@pytest.mark.parametrize(
    ("secret", "header", "body", "now", "ok"),
    [
        (SECRET, wh.sign(SECRET, NOW, BODY), BODY, NOW, True),
        (SECRET, wh.sign(SECRET, NOW, BODY), BODY + b" ", NOW, False),  # body tampered
        ("other", wh.sign(SECRET, NOW, BODY), BODY, NOW, False),  # wrong secret
        (SECRET, wh.sign(SECRET, NOW, BODY), BODY, NOW + 301, False),  # stale
        (SECRET, wh.sign(SECRET, NOW, BODY), BODY, NOW - 301, False),  # from the future
        (SECRET, wh.sign(SECRET, NOW, BODY), BODY, NOW + 300, True),  # edge of tolerance
        (SECRET, wh.sign(SECRET, NOW, BODY).replace(f"t={NOW}", f"t={NOW + 1}"), BODY, NOW, False),
        (SECRET, "v1=" + "0" * 64, BODY, NOW, False),  # no timestamp
        (SECRET, f"t={NOW}", BODY, NOW, False),  # no signature
        (SECRET, "t=abc,v1=00", BODY, NOW, False),  # garbage
        (SECRET, "", BODY, NOW, False),
        (SECRET, f"t={NOW},v1=dead,{wh.sign(SECRET, NOW, BODY).split(',')[1]}", BODY, NOW, True),
    ],
)
def test_verify_signature(secret, header, body, now, ok):
    assert wh.verify_signature(secret, header, body, now=now) is ok


def test_tolerance_is_adjustable():
    header = wh.sign(SECRET, NOW, BODY)
    assert not wh.verify_signature(SECRET, header, BODY, now=NOW + 20, tolerance=10)
    assert wh.verify_signature(SECRET, header, BODY, now=NOW + 20, tolerance=30)


@pytest.mark.parametrize(
    ("patterns", "kind", "expected"),
    [
        (["*"], "version.created", True),
        (["job.*"], "job.failed", True),
        (["job.*"], "version.created", False),
        (["version.created"], "version.created", True),
        (["version.created"], "version.deleted", False),
        (["tag.changed", "job.*"], "job.queued", True),
        ([], "job.queued", False),
        (["job"], "job.queued", False),
        (["jo*"], "job.queued", False),
    ],
)
def test_matches(patterns, kind, expected):
    assert wh.matches(patterns, kind) is expected


def test_valid_patterns():
    assert wh.invalid_patterns(["*", "job.*", "version.created", "dataset.*"]) == []
    assert wh.invalid_patterns(["jobs.*", "version.commit", "*.created"]) == [
        "jobs.*",
        "version.commit",
        "*.created",
    ]
    assert set(wh.EVENT_TYPES) <= set(wh.PATTERNS)


def _entry(action: str, outcome: str = "ok") -> dict[str, object]:
    return {
        "id": 12,
        "workspace": "ws1",
        "actor": "user:ann",
        "action": action,
        "target": "cats@3",
        "outcome": outcome,
        "detail": {"files": 4},
        "at": 1.5,
    }


@pytest.mark.parametrize(
    ("action", "outcome", "kind"),
    [
        ("version.commit", "ok", "version.created"),
        ("version.delete", "ok", "version.deleted"),
        ("version.delete", "refused", None),
        ("tag.set", "ok", "tag.changed"),
        ("tag.delete", "ok", "tag.changed"),
        ("job.queued", "ok", "job.queued"),
        ("job.running", "ok", "job.running"),
        ("job.succeeded", "ok", "job.succeeded"),
        ("job.failed", "ok", "job.failed"),
        ("dataset.create", "ok", "dataset.created"),
        ("dataset.delete", "ok", "dataset.deleted"),
        ("dataset.delete", "refused", None),
        ("dataset.stage", "ok", "dataset.staged"),
        ("dataset.import", "ok", "dataset.staged"),
        ("session.create", "ok", None),
        ("webhook.create", "ok", None),
        ("member.set", "denied", None),
    ],
)
def test_event_type_of_audit_entries(action, outcome, kind):
    assert wh.event_type(_entry(action, outcome)) == kind


def test_event_payload():
    assert wh.event_payload(_entry("version.commit"), "version.created") == {
        "id": 12,
        "type": "version.created",
        "workspace": "ws1",
        "at": 1.5,
        "data": {"actor": "user:ann", "target": "cats@3", "detail": {"files": 4}},
    }


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(0, 0.0), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 32.0), (7, 60.0), (1000, 60.0)],
)
def test_backoff_doubles_and_is_capped(attempt, seconds):
    assert wh.backoff(attempt) == seconds
