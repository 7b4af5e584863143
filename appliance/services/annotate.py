"""Annotation work on the working area: the queue, one item, saves, submissions,
review decisions and per-person figures. Saving goes through ``label_edit``."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from appliance.domain.labels.document import LabelDocument, LabelError, parse_document
from appliance.domain.labels.queue import QueueItem, build_queue, check_state, queue_item
from appliance.domain.labels.review import (
    DECISIONS,
    IN_PROGRESS,
    SUBMITTED,
    ReviewRefused,
    check_decision,
    check_submit,
)
from appliance.domain.labels.review_stats import Activity, ReviewStats, review_stats
from appliance.domain.labels.schema import schema_from_dict
from appliance.domain.manifest import WorkingFile
from appliance.errors import (
    Conflict,
    InvalidInput,
    LabelsRejected,
    NotFound,
    ReviewIncomplete,
)
from appliance.errors import ReviewRefused as Refused
from appliance.ports.catalog import UnitOfWork
from appliance.services.context import ServiceContext
from appliance.services.label_edit import ANY, save_labels

#: How many of a file's latest activity entries an item shows (rejection comments).
ITEM_HISTORY = 20


@dataclass(frozen=True)
class ItemView:
    item: QueueItem
    document: dict[str, Any] | None
    history: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {**self.item.as_dict(), "labels": self.document, "history": self.history}


async def queue(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    *,
    state: str | None = None,
    annotator: str | None = None,
    prefix: str | None = None,
) -> list[QueueItem]:
    if problem := check_state(state):
        raise InvalidInput(problem, hint="leave state out to list every image")
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        working = await uow.files.working(ds.id)
        reviews = await uow.reviews.by_file(ds.id)
    return build_queue(working.values(), reviews, state=state, annotator=annotator, prefix=prefix)


async def item(ctx: ServiceContext, ws: str, slug: str, path: str) -> ItemView:
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        f = await _file(uow, ds.id, slug, path)
        review = await uow.reviews.get(ds.id, path)
        history = await uow.reviews.activity(ds.id, path, ITEM_HISTORY)
    doc = None
    if f.label_sha256 is not None:
        data = await asyncio.to_thread(ctx.blobs.read, ws, f.label_sha256)
        doc = json.loads(data)
    return ItemView(queue_item(f, review), doc, [_entry(h) for h in history])


def parse_labels(raw: Any) -> LabelDocument:
    try:
        return parse_document(raw)
    except LabelError as exc:
        raise LabelsRejected(exc.where, exc.problem) from None


async def save(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    path: str,
    raw: Any,
    actor: str,
    *,
    expect: str | None = ANY,
) -> dict[str, Any]:
    """Validate a label document (shape, then the dataset's classes) and save it."""
    doc = parse_labels(raw)
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        schema = await uow.labels.schema(ds.id)
    if schema and (wrong := schema_from_dict(schema).check(doc, "labels")):
        raise LabelsRejected(wrong[0].where, wrong[0].problem)
    saved = await save_labels(ctx, ws, slug, path, doc, actor, expect=expect)
    state = IN_PROGRESS
    if not saved.changed:
        async with ctx.catalog.reading(ws) as uow:
            f = await _file(uow, ds.id, slug, path)
            state = queue_item(f, await uow.reviews.get(ds.id, path)).state
    return {
        "path": path,
        "label_sha256": saved.label_sha256,
        "previous": saved.previous,
        "changed": saved.changed,
        "state": state,
    }


async def submit(ctx: ServiceContext, ws: str, slug: str, path: str, actor: str) -> QueueItem:
    """in_progress or rejected → submitted, for a reviewer to decide."""
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.datasets.get(slug)
        f = await _file(uow, ds.id, slug, path)
        review = await uow.reviews.get(ds.id, path)
        now = queue_item(f, review)
        _refuse(path, "submit", check_submit(now.state, f.label_sha256 is not None))
        keep = now.annotator if review and not now.stale else None
        await uow.reviews.set(ds.id, path, SUBMITTED, f.label_sha256, annotator=keep or actor)
        await uow.reviews.add_activity(ds.id, path, actor, "submit", f.label_sha256)
        await uow.audit.record(
            actor, "labels.submit", f"{slug}:{path}", label_sha256=f.label_sha256
        )
        return queue_item(f, await uow.reviews.get(ds.id, path))


async def review(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    path: str,
    decision: str,
    comment: str,
    actor: str,
    *,
    expect: str | None = ANY,
) -> QueueItem:
    """Approve or reject the labels the file has now (``expect``: the label_sha256
    the reviewer looked at; other labels now are a conflict)."""
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.datasets.get(slug)
        f = await _file(uow, ds.id, slug, path)
        if expect != ANY and f.label_sha256 != expect:
            raise Conflict(
                f"the labels of {path!r} changed since you opened them",
                hint="reload the image and review the labels it has now",
            )
        review = await uow.reviews.get(ds.id, path)
        now = queue_item(f, review)
        step = decision if decision in DECISIONS else "review"
        labelled = f.label_sha256 is not None
        _refuse(path, step, check_decision(decision, now.state, labelled, comment))
        note = comment.strip() or None
        await uow.reviews.set(
            ds.id, path, DECISIONS[decision], f.label_sha256, reviewer=actor, comment=note
        )
        await uow.reviews.add_activity(ds.id, path, actor, decision, f.label_sha256, note)
        await uow.audit.record(
            actor, f"labels.{decision}", f"{slug}:{path}", label_sha256=f.label_sha256
        )
        return queue_item(f, await uow.reviews.get(ds.id, path))


async def stats(ctx: ServiceContext, ws: str, slug: str, since: float | None) -> ReviewStats:
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        log = await uow.reviews.activity(ds.id)
    return review_stats(log, since)


async def _file(uow: UnitOfWork, dataset_id: int, slug: str, path: str) -> WorkingFile:
    f = await uow.files.working_file(dataset_id, path)
    if f is None:
        raise NotFound(
            "file", f"{slug}:{path}", hint="it is not in the working area; import it first"
        )
    return f


def _refuse(path: str, step: str, refused: ReviewRefused | None) -> None:
    if refused is None:
        return
    if refused.invalid:
        raise ReviewIncomplete(path, step, refused.problem, hint=refused.hint)
    raise Refused(path, step, refused.problem, hint=refused.hint)


def _entry(row: Activity) -> dict[str, Any]:
    return {
        "actor": row.actor,
        "action": row.action,
        "label_sha256": row.label_sha256,
        "comment": row.comment,
        "at": row.at,
    }
