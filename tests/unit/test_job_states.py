"""The job state machine: every (old, new) pair, and what a refused move says."""

from __future__ import annotations

import itertools

import pytest

from appliance.domain.jobs import (
    CANCELLED,
    FAILED,
    QUEUED,
    RUNNING,
    STATES,
    SUCCEEDED,
    TERMINAL,
    IllegalMove,
    can_move,
    cancel_effect,
    check_move,
)
from appliance.errors import Conflict

pytestmark = pytest.mark.unit

LEGAL = {
    (QUEUED, RUNNING),
    (QUEUED, CANCELLED),
    (QUEUED, FAILED),
    (RUNNING, SUCCEEDED),
    (RUNNING, FAILED),
    (RUNNING, CANCELLED),
}


@pytest.mark.parametrize("old, new", list(itertools.product(STATES, STATES)))
def test_the_table_has_exactly_the_drawn_moves(old: str, new: str) -> None:
    assert can_move(old, new) == ((old, new) in LEGAL)


@pytest.mark.parametrize("state", sorted(TERMINAL))
def test_an_ended_job_never_moves_again(state: str) -> None:
    assert not any(can_move(state, new) for new in STATES)


def test_terminal_is_every_state_with_no_way_out() -> None:
    assert {s for s in STATES if not any(can_move(s, n) for n in STATES)} == TERMINAL


def test_an_unknown_state_moves_nowhere() -> None:
    assert not can_move("paused", RUNNING) and not can_move(QUEUED, "paused")


@pytest.mark.parametrize(
    "old, new, message, hint",
    [
        (SUCCEEDED, RUNNING, "cannot move from succeeded to running", "nowhere: it has ended"),
        (QUEUED, SUCCEEDED, "cannot move from queued to succeeded", "cancelled, failed, running"),
        (RUNNING, QUEUED, "cannot move from running to queued", "cancelled, failed, succeeded"),
        (CANCELLED, FAILED, "cannot move from cancelled to failed", "nowhere: it has ended"),
    ],
)
def test_check_move_refuses_with_the_move_and_the_ways_on(
    old: str, new: str, message: str, hint: str
) -> None:
    with pytest.raises(IllegalMove) as err:
        check_move("j1", old, new)
    assert isinstance(err.value, Conflict) and err.value.code == "illegal-job-move"
    assert message in err.value.message and "'j1'" in err.value.message
    assert hint in err.value.hint
    assert (err.value.job_id, err.value.old, err.value.new) == ("j1", old, new)


@pytest.mark.parametrize("old, new", sorted(LEGAL))
def test_check_move_lets_every_legal_move_through(old: str, new: str) -> None:
    check_move("j1", old, new)


@pytest.mark.parametrize(
    "state, effect",
    [
        (QUEUED, CANCELLED),
        (RUNNING, "kill"),
        (SUCCEEDED, "none"),
        (FAILED, "none"),
        (CANCELLED, "none"),
    ],
)
def test_cancel_effect(state: str, effect: str) -> None:
    assert cancel_effect(state) == effect
