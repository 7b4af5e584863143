"""What a batch of annotation events does to a stream and to the working area:
duplicates skipped, positions assigned, each file's labels worked out in order.
Pure; the service reads the state it needs and applies the plan in one transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from appliance.domain.canonical import sha256_hex
from appliance.domain.labels.document import LabelDocument
from appliance.domain.labels.events import EventProblem, LabelEvent


@dataclass(frozen=True, slots=True)
class Planned:
    event: LabelEvent
    position: int
    labels: LabelDocument | None  # the file's labels once this event is applied
    data: bytes | None  # ... as stored (canonical JSON), hashed once
    sha256: str | None


@dataclass(frozen=True, slots=True)
class BatchPlan:
    new: tuple[Planned, ...]
    duplicates: tuple[str, ...]
    final: dict[str, Planned]  # per file touched: the last event that touched it
    problems: tuple[EventProblem, ...]
    offset: int | None  # the stream's offset once the batch is applied

    def rows(self) -> list[tuple[str, int, str, str, str | None]]:
        """(event_id, position, filename, action, label_sha256) per new event."""
        return [(p.event.id, p.position, p.event.file, p.event.op, p.sha256) for p in self.new]


def plan_batch(
    events: Sequence[LabelEvent],
    *,
    files: Collection[str],
    current: Mapping[str, LabelDocument | None],
    known_ids: Collection[str],
    offset: int | None,
    by: str,
    now: float,
) -> BatchPlan:
    """What a batch does to a stream whose offset is ``offset`` (None: empty).

    Known ids are duplicates and skipped, whatever else they say. Each new event
    must name a file of the working area (``files``) and lands at its own offset,
    or one past the stream's highest; positions only move forward, so a new id at
    or below the offset means the producer rewound with other ids, and is refused.
    ``current`` holds the labels of every file an ``add`` appends to. Documents
    that do not say who made them get ``by`` and the event's ``at`` (else ``now``).
    """
    new: list[Planned] = []
    duplicates: list[str] = []
    problems: list[EventProblem] = []
    final: dict[str, Planned] = {}
    top, top_from = offset, None if offset is None else "the stream's offset"
    for ev in events:
        if ev.id in known_ids:
            duplicates.append(ev.id)
            continue
        if ev.file not in files:
            why = f"{ev.file!r} is not in the working area"
            problems.append(EventProblem(ev.index, ev.id, why))
            continue
        position = ev.offset if ev.offset is not None else (-1 if top is None else top) + 1
        if top is not None and position <= top:
            why = f"offset {position} is not past {top_from} {top}"
            if top_from == "the stream's offset":
                why += "; its id is new, so the producer rewound with other ids"
            problems.append(EventProblem(ev.index, ev.id, why))
            continue
        top, top_from = position, f"event {ev.index}'s offset"
        before = final[ev.file].labels if ev.file in final else current.get(ev.file)
        labels = _apply(ev, before)
        if labels is None:
            planned = Planned(ev, position, None, None, None)
        else:
            labels = _stamp(labels, by, ev.at if ev.at is not None else now)
            data = labels.to_bytes()
            planned = Planned(ev, position, labels, data, sha256_hex(data))
        final[ev.file] = planned
        new.append(planned)
    return BatchPlan(tuple(new), tuple(duplicates), final, tuple(problems), top)


def _apply(ev: LabelEvent, before: LabelDocument | None) -> LabelDocument | None:
    if ev.op == "set":
        return ev.labels
    if ev.op == "add":
        base = before or LabelDocument()
        return replace(base, objects=base.objects + ev.objects, by=None, at=None)
    return None


def _stamp(doc: LabelDocument, by: str, at: float) -> LabelDocument:
    return doc if doc.by is not None else replace(doc, by=by, at=round(at, 3))
