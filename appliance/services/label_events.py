"""The annotation event stream: batches of label changes from a producer (an
annotation tool, the old pipeline's queue), applied idempotently, with a consumer
offset the producer resumes from.

A batch is checked whole before anything is stored: every event well formed,
every file in the working area, every offset past the stream's. One problem
refuses the batch, with a report naming each. Events whose id the stream already
has are skipped, so resending a batch changes nothing and says so. The rest is
applied as ``label_edit.save_many`` does: new documents first, then one
transaction that also records the events and moves the offset.

The plan is made from a snapshot read without the write lock; the transaction
checks the snapshot still holds (no event arrived on the stream, no touched
file's labels changed) and otherwise plans again from fresh state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from appliance.domain.labels.document import LabelDocument
from appliance.domain.labels.event_plan import BatchPlan, plan_batch
from appliance.domain.labels.events import LabelEvent, check_stream, parse_events
from appliance.domain.manifest import WorkingFile
from appliance.domain.records import Dataset, StreamState
from appliance.errors import Conflict, EventsRejected
from appliance.ports.catalog import UnitOfWork
from appliance.services.context import ServiceContext
from appliance.services.label_edit import Change, save_many
from appliance.services.labels import read_labels

ACTION = "ingest"
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class IngestResult:
    stream: str
    accepted: int  # new events applied
    duplicates: int  # events the stream already had, skipped
    offset: int | None  # the stream's offset now: resume after it
    changed: int  # files whose labels changed

    def as_dict(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "offset": self.offset,
            "changed": self.changed,
        }


class _Moved(Exception):
    """The snapshot a plan was made from no longer holds: plan again."""


@dataclass(frozen=True, slots=True)
class _Snapshot:
    working: dict[str, WorkingFile]
    offset: int | None
    known: set[str]


async def ingest(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    stream: str,
    events: Sequence[Any],
    actor: str,
) -> IngestResult:
    """Apply a batch of raw events (maps, named or positional keys) to ``stream``."""
    check_stream(stream)
    parsed, problems = parse_events(events)
    for _ in range(ATTEMPTS):
        snap = await _snapshot(ctx, ws, slug, stream, parsed)
        current = await _labels_for_add(ctx, ws, parsed, snap)
        plan = plan_batch(
            parsed,
            files=snap.working.keys(),
            current=current,
            known_ids=snap.known,
            offset=snap.offset,
            by=actor,
            now=time.time(),
        )
        found = sorted([*problems, *plan.problems], key=lambda p: p.index)
        if found:
            raise EventsRejected([(p.where(), p.text()) for p in found])
        if not plan.new:
            return IngestResult(stream, 0, len(plan.duplicates), snap.offset, 0)
        try:
            return await _apply(ctx, ws, slug, stream, plan, snap, actor)
        except _Moved:
            continue
    raise Conflict(
        f"stream {stream!r} kept changing while this batch was applied",
        hint="another producer writes to it at the same time; send the batch again",
    )


async def stream_state(ctx: ServiceContext, ws: str, slug: str, stream: str) -> StreamState:
    """``{stream, offset, events, last_event_id, updated_at}``: a consumer resumes
    after ``offset`` (None: the stream has applied nothing yet)."""
    check_stream(stream)
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        return await uow.streams.state(ds.id, stream)


async def _snapshot(
    ctx: ServiceContext, ws: str, slug: str, stream: str, events: list[LabelEvent]
) -> _Snapshot:
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        working = await uow.files.working(ds.id)
        offset = await uow.streams.offset(ds.id, stream)
        known = await uow.streams.known_event_ids(ds.id, stream, {e.id for e in events})
    return _Snapshot(working, offset, known)


async def _labels_for_add(
    ctx: ServiceContext, ws: str, events: list[LabelEvent], snap: _Snapshot
) -> dict[str, LabelDocument | None]:
    """The current labels of each file an ``add`` appends to (read in one go)."""
    targets = {e.file for e in events if e.op == "add" and e.id not in snap.known}
    digests = {
        w.label_sha256: name
        for name in targets
        if (w := snap.working.get(name)) is not None and w.label_sha256
    }
    docs = await asyncio.to_thread(read_labels, ctx, ws, set(digests)) if digests else {}
    out: dict[str, LabelDocument | None] = dict.fromkeys(targets)
    for name in targets:
        w = snap.working.get(name)
        if w is not None and w.label_sha256:
            out[name] = docs[w.label_sha256]
    return out


async def _apply(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    stream: str,
    plan: BatchPlan,
    snap: _Snapshot,
    actor: str,
) -> IngestResult:
    async def check(uow: UnitOfWork, ds: Dataset, working: Mapping[str, WorkingFile]) -> None:
        if await uow.streams.offset(ds.id, stream) != snap.offset:
            raise _Moved
        if await uow.streams.known_event_ids(ds.id, stream, [p.event.id for p in plan.new]):
            raise _Moved
        if any(working.get(name) != snap.working.get(name) for name in plan.final):
            raise _Moved
        await uow.streams.add_events(ds.id, stream, plan.rows(), actor)

    changes = [Change(name, p.data, p.sha256) for name, p in plan.final.items()]
    detail = {
        "stream": stream,
        "accepted": len(plan.new),
        "duplicates": len(plan.duplicates),
        "offset": plan.offset,
    }
    saved = await save_many(
        ctx, ws, slug, changes, actor, action=ACTION, check=check, detail=detail
    )
    changed = sum(s.changed for s in saved)
    return IngestResult(stream, len(plan.new), len(plan.duplicates), plan.offset, changed)
