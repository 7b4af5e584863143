"""The review state of one file's labels in the working area.

    (none) --save--> in_progress --submit--> submitted --approve--> approved
                          ^                      |
                          |                      +--reject(comment)--> rejected
                          +-------------save------------------------------+

Any save (from the studio, an import of labels or the event stream) puts the file
back to ``in_progress``: an approval is about the exact labels a reviewer saw
(``label_sha256``), never about later ones. A reviewer may also approve or
reject work that was not submitted yet, as long as it has labels.
"""

from __future__ import annotations

from dataclasses import dataclass

IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
APPROVED = "approved"
REJECTED = "rejected"
UNLABELLED = "unlabelled"  # shown for files with no review row and no labels
STATES = (UNLABELLED, IN_PROGRESS, SUBMITTED, APPROVED, REJECTED)
DECISIONS = {"approve": APPROVED, "reject": REJECTED}


@dataclass(frozen=True, slots=True)
class ReviewRefused:
    """Why a transition is not allowed, and what to do instead."""

    problem: str
    hint: str
    #: The request itself is wrong (no comment, unknown decision), not the state.
    invalid: bool = False


def check_submit(state: str | None, has_labels: bool) -> ReviewRefused | None:
    if not has_labels:
        return ReviewRefused("it has no labels to submit", "label it first")
    if state == SUBMITTED:
        return ReviewRefused("it is already submitted", "wait for the reviewer")
    if state == APPROVED:
        return ReviewRefused("it is already approved", "change its labels to start again")
    return None


def check_decision(
    decision: str, state: str | None, has_labels: bool, comment: str
) -> ReviewRefused | None:
    if decision not in DECISIONS:
        return ReviewRefused(
            f"decision {decision!r} is not known", "use approve or reject", invalid=True
        )
    if not has_labels:
        return ReviewRefused("it has no labels to review", "an annotator labels it first")
    if decision == "reject" and not comment.strip():
        return ReviewRefused(
            "a rejection needs a comment", "say what to fix, so the annotator knows", invalid=True
        )
    if DECISIONS[decision] == state:
        return ReviewRefused(f"it is already {state}", "nothing to do")
    return None


def state_of(review_state: str | None, has_labels: bool) -> str:
    """What a file shows in the queue: its review state, else labelled or not."""
    if review_state:
        return review_state
    return IN_PROGRESS if has_labels else UNLABELLED


def is_stale(reviewed_sha256: str | None, label_sha256: str | None) -> bool:
    """The labels changed (an import, say) since the review state was recorded."""
    return reviewed_sha256 != label_sha256


def current_state(
    review_state: str | None, reviewed_sha256: str | None, label_sha256: str | None
) -> str:
    """The state a file is in now: a state recorded about other labels than the
    file's current ones no longer holds, so the file is back to work (or unlabelled)."""
    if review_state is not None and is_stale(reviewed_sha256, label_sha256):
        review_state = None
    return state_of(review_state, label_sha256 is not None)
