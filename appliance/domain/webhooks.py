"""Webhook events: which audit entries are public events, which hooks want them,
how a delivery is signed, and how long to wait before trying again.

The audit log is the outbox: every state change is audited in the transaction
that makes it, so an entry that exists is a change that happened. Only entries
with outcome ``ok`` are events; refusals and denials are not.

A delivery carries ``X-Ahoy-Signature: t=<unix>,v1=<hex>`` where ``<hex>`` is
HMAC-SHA256 over ``b"<t>." + body`` keyed with the hook's secret (Stripe's
scheme). ``verify_signature`` is what a receiver runs.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from appliance.domain.records import AuditEntry

#: Audit action → public event type.
EVENT_OF_ACTION: dict[str, str] = {
    "dataset.create": "dataset.created",
    "dataset.delete": "dataset.deleted",
    "dataset.stage": "dataset.staged",
    "dataset.import": "dataset.staged",
    "dataset.rm-files": "dataset.staged",
    "version.commit": "version.created",
    "version.delete": "version.deleted",
    "tag.set": "tag.changed",
    "tag.delete": "tag.changed",
    "job.queued": "job.queued",
    "job.running": "job.running",
    "job.succeeded": "job.succeeded",
    "job.failed": "job.failed",
}

#: Every public event type, sorted.
EVENT_TYPES: tuple[str, ...] = tuple(sorted(set(EVENT_OF_ACTION.values())))

#: The patterns a hook may subscribe with: "*", "<group>.*", or one event type.
PATTERNS: tuple[str, ...] = (
    "*",
    *sorted({t.split(".", 1)[0] + ".*" for t in EVENT_TYPES}),
    *EVENT_TYPES,
)

SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE = 300


def event_type(entry: AuditEntry) -> str | None:
    """The public event type of an audit entry, or None when it is not an event."""
    if entry.get("outcome") != "ok":
        return None
    return EVENT_OF_ACTION.get(str(entry.get("action")))


def event_payload(entry: AuditEntry, kind: str) -> dict[str, Any]:
    """What is POSTed: ``{id, type, workspace, at, data: {actor, target, detail}}``."""
    return {
        "id": entry["id"],
        "type": kind,
        "workspace": entry["workspace"],
        "at": entry["at"],
        "data": {
            "actor": entry["actor"],
            "target": entry["target"],
            "detail": entry.get("detail") or {},
        },
    }


def invalid_patterns(patterns: Iterable[str]) -> list[str]:
    """The patterns that name no event (an empty result means all are fine)."""
    return [p for p in patterns if p not in PATTERNS]


def matches(patterns: Iterable[str], kind: str) -> bool:
    """Whether any pattern selects ``kind``: ``*``, ``job.*``, or the exact type."""
    for pattern in patterns:
        if pattern == "*" or pattern == kind:
            return True
        if pattern.endswith(".*") and kind.startswith(pattern[:-1]):
            return True
    return False


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Ahoy-Signature`` header value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},{SIGNATURE_SCHEME}={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, now: float, tolerance: float = DEFAULT_TOLERANCE
) -> bool:
    """True when ``header`` signs exactly ``body`` with ``secret`` and its timestamp
    is within ``tolerance`` seconds of ``now`` (which stops replays of old deliveries).
    Any ``v1`` value may match, so a sender may sign with several secrets."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == SIGNATURE_SCHEME:
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)


def backoff(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, 4, 8, ... capped).
    Deterministic, so the delivery schedule is predictable and testable."""
    if attempt < 1:
        return 0.0
    return float(min(cap, base * 2 ** min(attempt - 1, 32)))


class Outcome(enum.StrEnum):
    """How one delivery attempt ended: all the delivery log says about it. No
    exception text is kept: it would name the hosts and ports a receiver's
    address led to, and the log is read by workspace admins."""

    DELIVERED = "delivered"
    #: The address policy refused the target (not retried).
    REFUSED = "refused"
    #: No connection (refused, unreachable, TLS failed, the name did not resolve).
    CONNECTION_FAILED = "connection_failed"
    TIMED_OUT = "timed_out"
    #: The receiver answered, with a status other than 2xx (``status_code``).
    HTTP_STATUS = "http_status"

    @property
    def retried(self) -> bool:
        """Whether another attempt may change it (a policy refusal will not)."""
        return self not in (Outcome.DELIVERED, Outcome.REFUSED)


_OUTCOME_TEXT = {
    Outcome.REFUSED: "the webhook address policy refused the receiver's address",
    Outcome.CONNECTION_FAILED: "could not connect to the receiver",
    Outcome.TIMED_OUT: "the receiver did not answer in time",
}


def outcome_error(outcome: Outcome | str, status_code: int | None) -> str | None:
    """The delivery log's ``error`` text for an outcome: fixed wording per class."""
    outcome = Outcome(outcome)
    if outcome is Outcome.DELIVERED:
        return None
    if outcome is Outcome.HTTP_STATUS:
        return f"the receiver answered HTTP {status_code}"
    return _OUTCOME_TEXT[outcome]
