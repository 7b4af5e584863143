"""The life of a job: states, the moves between them, and what the queue shows.

    queued ──admit──> running ──> succeeded | failed | cancelled
      │                  └──cancel──> cancelled (its process group is killed)
      ├──cancel──> cancelled
      └──> failed (the box lost what it needed: a GPU went away)

A job the governor can never fit on this box is refused at submission and never
becomes a row. A restart of the appliance fails what was running (its processes
died with the worker) and keeps what was queued: those never started, so they
are admitted again by the next scheduler. An ended job never moves again.
"""

from __future__ import annotations

from appliance.errors import Conflict

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


class IllegalMove(Conflict):
    """A writer tried a move the state machine does not have (e.g. an ended job
    running again): a bug or a lost race, never applied."""

    code = "illegal-job-move"

    def __init__(self, job_id: str, old: str, new: str) -> None:
        onward = ", ".join(sorted(_MOVES.get(old, ()))) or "nowhere: it has ended"
        super().__init__(
            f"job {job_id!r} cannot move from {old} to {new}",
            hint=f"a {old} job moves only to {onward}",
        )
        self.job_id = job_id
        self.old = old
        self.new = new


def can_move(old: str, new: str) -> bool:
    return new in _MOVES.get(old, frozenset())


def check_move(job_id: str, old: str, new: str) -> None:
    """Raise :class:`IllegalMove` unless ``old → new`` is a move of the machine.
    Every writer of a job's state passes through this (the catalog calls it)."""
    if not can_move(old, new):
        raise IllegalMove(job_id, old, new)


def cancel_effect(state: str) -> str:
    """What cancelling does: ``cancelled`` now (queued), ``kill`` (running), or
    ``none`` (it already ended)."""
    if state == QUEUED:
        return CANCELLED
    if state == RUNNING:
        return "kill"
    return "none"
