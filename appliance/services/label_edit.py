"""Edit files' labels in the working area: the path the annotation studio,
the annotation event stream and (later) model pre-labelling all take.

The label documents are stored as blobs first; then one catalog transaction points
the files at them, resets their review state to ``in_progress`` and records the
activity. ``save_labels`` does one file, and its ``expect`` makes a save
conditional on the labels the editor started from (the studio's If-Match), so two
people editing one image do not silently overwrite each other; a document equal
to the stored one (who saved it and when aside) changes nothing, so an approved
image stays approved. ``save_many`` does a batch (the event stream) in one blob
write and one transaction.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from appliance.domain.canonical import sha256_hex
from appliance.domain.labels.document import LabelDocument, LabelError, parse_document
from appliance.domain.labels.review import IN_PROGRESS
from appliance.domain.manifest import WorkingFile
from appliance.domain.records import Dataset, StagedFile
from appliance.errors import Conflict, NotFound
from appliance.ports.blobstore import BlobPut
from appliance.ports.catalog import UnitOfWork
from appliance.services.context import ServiceContext
from appliance.services.staging import forget_new_blobs

T = TypeVar("T")

#: ``expect`` default: save whatever the labels are now.
ANY = "*"
#: Up to this many files are looked up one by one, more by reading the working area.
_FEW = 32


@dataclass(frozen=True, slots=True)
class Saved:
    filename: str
    label_sha256: str | None  # None: the file has no labels now
    previous: str | None
    changed: bool


def stamp(doc: LabelDocument, actor: str) -> LabelDocument:
    """Who made the labels and when, unless the document already says."""
    if doc.by is not None:
        return doc
    return replace(doc, by=actor, at=round(time.time(), 3))


@dataclass(frozen=True, slots=True)
class Change:
    """One file's new labels: a document's stored bytes and digest, or none at all."""

    filename: str
    data: bytes | None = None
    sha256: str | None = None

    @classmethod
    def of(cls, filename: str, doc: LabelDocument | None) -> Change:
        if doc is None:
            return cls(filename)
        data = doc.to_bytes()
        return cls(filename, data, sha256_hex(data))


#: Runs first in the writing transaction, with the dataset and its working area.
Check = Callable[[UnitOfWork, Dataset, Mapping[str, WorkingFile]], Awaitable[None]]


async def save_labels(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    filename: str,
    doc: LabelDocument,
    actor: str,
    *,
    expect: str | None = ANY,
    action: str = "save",
) -> Saved:
    """``expect``: the label_sha256 the caller edited (None: the file had none);
    a different current value is a conflict and nothing is stored."""
    change = Change.of(filename, doc)
    sha = change.sha256 or ""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        current = await uow.files.working_file(ds.id, filename)
    if current is None:
        raise _no_file(slug, filename)
    if current.label_sha256 == sha:
        return Saved(filename, sha, sha, changed=False)
    if current.label_sha256 is not None and await _same_as_stored(
        ctx, ws, current.label_sha256, doc
    ):
        # Only who/when differ: nothing changes, the review state included.
        return Saved(filename, current.label_sha256, current.label_sha256, changed=False)

    async def write(uow: UnitOfWork, ds: Dataset, working: Mapping[str, WorkingFile]) -> Saved:
        now = working.get(filename)
        if now is None:
            raise _no_file(slug, filename)
        if expect != ANY and now.label_sha256 != expect:
            raise Conflict(
                f"the labels of {filename!r} changed since you opened them",
                hint="reload the image to see the newer labels, then edit again",
            )
        (saved,) = await _apply(uow, ds, [change], actor, action, working)
        await uow.audit.record(actor, f"labels.{action}", f"{slug}:{filename}", label_sha256=sha)
        return saved

    return await _store_then_write(ctx, ws, slug, [change], write)


async def save_many(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    changes: Sequence[Change],
    actor: str,
    *,
    action: str = "save",
    check: Check | None = None,
    detail: Mapping[str, Any] | None = None,
) -> list[Saved]:
    """Many files' labels at once (one change per file): every new document stored
    first (one ``put_many``), then one transaction stages them all, resets the
    review state of each file whose labels changed, records its activity, and
    audits once, with the counts and ``detail``. ``check`` runs first in that
    transaction; whatever it raises refuses the whole call, and the documents this
    call newly stored are taken back."""
    names = [c.filename for c in changes]
    if len(set(names)) != len(names):
        raise ValueError("one change per file")

    async def write(
        uow: UnitOfWork, ds: Dataset, working: Mapping[str, WorkingFile]
    ) -> list[Saved]:
        if check is not None:
            await check(uow, ds, working)
        saved = await _apply(uow, ds, changes, actor, action, working)
        changed = sum(s.changed for s in saved)
        await uow.audit.record(
            actor, f"labels.{action}", slug, files=len(saved), changed=changed, **(detail or {})
        )
        return saved

    return await _store_then_write(ctx, ws, slug, changes, write)


async def _store_then_write(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    changes: Sequence[Change],
    write: Callable[[UnitOfWork, Dataset, Mapping[str, WorkingFile]], Awaitable[T]],
) -> T:
    """Blobs first, then the one transaction; on any failure the blobs this call
    stored go again (those something else references stay)."""
    blobs = {c.sha256: c.data for c in changes if c.sha256 is not None and c.data is not None}
    stored = await asyncio.to_thread(ctx.blobs.missing, ws, set(blobs))
    try:
        await asyncio.to_thread(ctx.blobs.put_many, ws, _puts(blobs, stored))
        async with ctx.catalog.writing(ws) as uow:
            # A GC (it deletes under this lock) may have reclaimed a document that
            # was present but unreferenced when we looked: put it back before use.
            lost = await asyncio.to_thread(ctx.blobs.missing, ws, set(blobs) - stored)
            stored |= lost
            await asyncio.to_thread(ctx.blobs.put_many, ws, _puts(blobs, lost))
            ds = await uow.datasets.get(slug)
            return await write(uow, ds, await _working(uow, ds, [c.filename for c in changes]))
    except BaseException:
        await forget_new_blobs(ctx, ws, stored)
        raise


async def _working(uow: UnitOfWork, ds: Dataset, names: Sequence[str]) -> dict[str, WorkingFile]:
    """The working-area entries of ``names`` (a few are looked up one by one)."""
    if len(names) > _FEW:
        return await uow.files.working(ds.id)
    found = {n: await uow.files.working_file(ds.id, n) for n in names}
    return {n: w for n, w in found.items() if w is not None}


async def _same_as_stored(ctx: ServiceContext, ws: str, digest: str, doc: LabelDocument) -> bool:
    """Are the stored labels ``digest`` the same labels as ``doc``?"""
    try:
        data = await asyncio.to_thread(ctx.blobs.read, ws, digest)
        stored = parse_document(json.loads(data), digest)
    except (LabelError, ValueError):
        return False
    return stored.same_labels(doc)


def _puts(blobs: Mapping[str, bytes], digests: set[str]) -> list[BlobPut]:
    return [BlobPut(sha, len(blobs[sha]), data=blobs[sha]) for sha in digests]


async def _apply(
    uow: UnitOfWork,
    ds: Dataset,
    changes: Sequence[Change],
    actor: str,
    action: str,
    working: Mapping[str, WorkingFile],
) -> list[Saved]:
    saved: list[Saved] = []
    todo: list[tuple[Change, WorkingFile]] = []
    for c in changes:
        w = working.get(c.filename)
        if w is None:
            raise _no_file(ds.slug, c.filename)
        saved.append(Saved(c.filename, c.sha256, w.label_sha256, w.label_sha256 != c.sha256))
        if w.label_sha256 != c.sha256:
            todo.append((c, w))
    if not todo:
        return saved
    sizes = await uow.files.sizes({w.sha256 for _, w in todo})
    staged = [
        StagedFile(
            c.filename, w.sha256, sizes.get(w.sha256, 0), w.role, c.sha256, len(c.data or b"")
        )
        for c, w in todo
    ]
    await uow.files.stage(ds.id, staged, current=dict(working))
    if len(todo) == 1:
        (c, _), *_ = todo
        await uow.reviews.set(ds.id, c.filename, IN_PROGRESS, c.sha256, annotator=actor)
        await uow.reviews.add_activity(ds.id, c.filename, actor, action, c.sha256)
    else:
        await uow.reviews.set_many(
            ds.id, [(c.filename, IN_PROGRESS, c.sha256, actor) for c, _ in todo]
        )
        await uow.reviews.add_activities(
            ds.id, [(c.filename, actor, action, c.sha256) for c, _ in todo]
        )
    return saved


def _no_file(slug: str, filename: str) -> NotFound:
    return NotFound(
        "file",
        f"{slug}:{filename}",
        hint="labels are edited on files of the working area; import the image first",
    )
