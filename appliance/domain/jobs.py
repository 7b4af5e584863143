"""The life of a job: states, the moves between them, and what the queue shows.

    queued ──admit──> running ──> succeeded | failed | cancelled
      │                  └──cancel──> cancelled (its process group is killed)
      └──cancel──> cancelled

A job the governor can never fit on this box is refused at submission and never
becomes a row. A restart of the appliance fails what was running (its processes
died with the worker) and keeps what was queued: those never started, so they
are admitted again by the next scheduler.
"""

from __future__ import annotations

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"

STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})

_MOVES = {
    QUEUED: frozenset({RUNNING, CANCELLED, FAILED}),
    RUNNING: frozenset({SUCCEEDED, FAILED, CANCELLED}),
}


def can_move(old: str, new: str) -> bool:
    return new in _MOVES.get(old, frozenset())


def cancel_effect(state: str) -> str:
    """What cancelling does: ``cancelled`` now (queued), ``kill`` (running), or
    ``none`` (it already ended)."""
    if state == QUEUED:
        return CANCELLED
    if state == RUNNING:
        return "kill"
    return "none"
