"""Per-annotator and per-reviewer figures, computed from the label activity log.

- An annotator's *saves* are their label saves (studio, CLI, SDK) and labels they
  sent through the event stream (``ingest``); *files saved* counts distinct files.
- An approval or rejection counts for the annotator who last saved that file
  before the decision (the whole log is read for this, not only the window), and
  for the reviewer who gave it.
- *Rejection rate*: rejected / (approved + rejected), ``None`` before any decision.
- *Throughput*: distinct files saved per hour of *active time*. Active time is
  made of sessions: an annotator's actions (saves, submissions, pre-labelling)
  closer together than ``IDLE_GAP`` belong to one session, which lasts from its
  first action to its last plus ``FIRST_ACTION`` (so one lone save is one minute).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

SAVES = frozenset({"save", "ingest"})
DECISIONS = frozenset({"approve", "reject"})
WORK = SAVES | {"submit", "prelabel"}
IDLE_GAP = 300.0  # seconds without an action that end a working session
FIRST_ACTION = 60.0  # seconds of work a session's first action stands for


@dataclass(frozen=True, slots=True)
class Activity:
    filename: str
    actor: str
    action: str  # save | submit | approve | reject | ingest | prelabel
    at: float
    label_sha256: str | None = None
    comment: str | None = None


@dataclass
class AnnotatorStats:
    annotator: str
    files: set[str] = field(default_factory=set)
    saves: int = 0
    prelabels: int = 0
    submitted: int = 0
    approved: int = 0
    rejected: int = 0
    times: list[float] = field(default_factory=list)

    @property
    def rejection_rate(self) -> float | None:
        decided = self.approved + self.rejected
        return round(self.rejected / decided, 4) if decided else None

    @property
    def active_seconds(self) -> float:
        return active_seconds(self.times)

    @property
    def files_per_hour(self) -> float | None:
        active = self.active_seconds
        return round(len(self.files) * 3600 / active, 2) if active else None

    def as_dict(self) -> dict[str, object]:
        return {
            "annotator": self.annotator,
            "files_saved": len(self.files),
            "saves": self.saves,
            "prelabels": self.prelabels,
            "submitted": self.submitted,
            "approved": self.approved,
            "rejected": self.rejected,
            "rejection_rate": self.rejection_rate,
            "active_hours": round(self.active_seconds / 3600, 4),
            "files_per_active_hour": self.files_per_hour,
        }


@dataclass
class ReviewerStats:
    reviewer: str
    approvals: int = 0
    rejections: int = 0
    files: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        return {
            "reviewer": self.reviewer,
            "approvals": self.approvals,
            "rejections": self.rejections,
            "files_reviewed": len(self.files),
        }


@dataclass(frozen=True)
class ReviewStats:
    since: float | None
    annotators: list[AnnotatorStats]
    reviewers: list[ReviewerStats]

    def as_dict(self) -> dict[str, object]:
        return {
            "since": self.since,
            "annotators": [a.as_dict() for a in self.annotators],
            "reviewers": [r.as_dict() for r in self.reviewers],
        }


def active_seconds(times: Iterable[float]) -> float:
    """Sessions of actions less than ``IDLE_GAP`` apart, each first-to-last plus
    ``FIRST_ACTION``."""
    total, start, last = 0.0, None, None
    for t in sorted(times):
        if last is None or t - last > IDLE_GAP:
            if start is not None and last is not None:
                total += last - start + FIRST_ACTION
            start = t
        last = t
    if start is not None and last is not None:
        total += last - start + FIRST_ACTION
    return total


def review_stats(log: Iterable[Activity], since: float | None = None) -> ReviewStats:
    """``log`` in the order it happened (by time, then insertion)."""
    annotators: dict[str, AnnotatorStats] = {}
    reviewers: dict[str, ReviewerStats] = {}
    last_saver: dict[str, str] = {}
    submitter: dict[str, str] = defaultdict(str)

    def annotator(name: str) -> AnnotatorStats:
        return annotators.setdefault(name, AnnotatorStats(name))

    for a in log:
        counted = since is None or a.at >= since
        if a.action in SAVES:
            last_saver[a.filename] = a.actor
        elif a.action == "submit":
            submitter[a.filename] = a.actor
        if not counted:
            continue
        if a.action in DECISIONS:
            r = reviewers.setdefault(a.actor, ReviewerStats(a.actor))
            r.files.add(a.filename)
            approve = a.action == "approve"
            r.approvals += approve
            r.rejections += not approve
            owner = last_saver.get(a.filename) or submitter[a.filename]
            if owner:
                s = annotator(owner)
                s.approved += approve
                s.rejected += not approve
            continue
        if a.action not in WORK:
            continue
        s = annotator(a.actor)
        s.times.append(a.at)
        if a.action in SAVES:
            s.saves += 1
            s.files.add(a.filename)
        elif a.action == "prelabel":
            s.prelabels += 1
        elif a.action == "submit":
            s.submitted += 1
    return ReviewStats(
        since,
        sorted(annotators.values(), key=lambda s: s.annotator),
        sorted(reviewers.values(), key=lambda r: r.reviewer),
    )
