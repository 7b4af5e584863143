"""Put named, already-stored blobs into a dataset's working area.

An upload (``stage_uploaded``) and a derived dataset end here: one transaction
that refuses erased content, optionally mirrors a folder (drops names it no
longer has), and records the files.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass

from appliance.domain.labels.document import LabelError, parse_document
from appliance.domain.manifest import WorkingFile
from appliance.domain.names import check_filename, role_for
from appliance.domain.records import Dataset, StagedFile, StageResult
from appliance.errors import ApplianceError, BlobsNotUploaded, ImportRejected, InvalidInput
from appliance.ports.catalog import UnitOfWork
from appliance.services.context import ServiceContext

ERASED = "this content was erased (GDPR); it may not be imported again"


async def stage_in(
    uow: UnitOfWork, ds: Dataset, files: list[StagedFile], mirror_prefix: str | None
) -> tuple[StageResult, dict[str, WorkingFile]]:
    """Returns the counts and the working area as it was before."""
    erased = await uow.storage.erased() & {f.sha256 for f in files}
    if erased:
        raise ImportRejected([(f.filename, ERASED) for f in files if f.sha256 in erased])
    current = await uow.files.working(ds.id)
    remove: list[str] = []
    if mirror_prefix is not None:
        names = {f.filename for f in files}
        base = mirror_prefix.strip("/")
        remove = [n for n in current if n not in names and (not base or n.startswith(base + "/"))]
    staged = await uow.files.stage(ds.id, files, remove=remove, current=current)
    return staged, current


@dataclass(frozen=True, slots=True)
class Entry:
    """A name to stage: its content, and optionally its label document (both stored)."""

    name: str
    sha256: str
    size: int
    label_sha256: str | None = None
    label_size: int = 0


async def stage_uploaded(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    entries: Iterable[Entry],
    actor: str,
    mirror_prefix: str | None = None,
) -> StageResult:
    """Stage entries whose blobs (content and label documents) a client uploaded
    before. Label documents are read back and checked before anything is staged."""
    files: list[StagedFile] = []
    seen: set[str] = set()
    problems: list[tuple[str, str]] = []
    for e in entries:
        try:
            check_filename(e.name)
        except InvalidInput as exc:
            problems.append((e.name, exc.message))
            continue
        if e.name in seen:
            problems.append((e.name, "this name is given twice"))
        seen.add(e.name)
        files.append(
            StagedFile(e.name, e.sha256, e.size, role_for(e.name), e.label_sha256, e.label_size)
        )
    if problems:
        raise ImportRejected(problems)
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.datasets.get(slug)
        # Checked under the write lock, which GC also takes to delete: a blob seen
        # here cannot vanish before the names referencing it are committed.
        wanted = {f.sha256 for f in files} | {f.label_sha256 for f in files if f.label_sha256}
        lacking = await asyncio.to_thread(ctx.blobs.missing, ws, wanted)
        if lacking:
            raise BlobsNotUploaded(
                [
                    (f.filename, f"its {what} sha256:{sha} was not uploaded")
                    for f in files
                    for what, sha in (("content", f.sha256), ("label document", f.label_sha256))
                    if sha in lacking
                ],
                sorted(lacking),
            )
        labels = await asyncio.to_thread(_check_labels, ctx, ws, files)
        known = await uow.files.sizes(wanted)
        # The size on record wins over a client's claim for content already known.
        files = [
            StagedFile(
                f.filename,
                f.sha256,
                known.get(f.sha256, f.size),
                f.role,
                f.label_sha256,
                labels.get(f.label_sha256, 0) if f.label_sha256 else 0,
            )
            for f in files
        ]
        staged, _ = await stage_in(uow, ds, files, mirror_prefix)
        await uow.audit.record(actor, "dataset.stage", slug, counts=staged.as_dict())
    return staged


def _check_labels(ctx: ServiceContext, ws: str, files: list[StagedFile]) -> dict[str, int]:
    """Every label document parses; returns their sizes. Refuses the whole call,
    naming each file whose labels are not a valid document."""
    by_sha: dict[str, list[str]] = {}
    for f in files:
        if f.label_sha256:
            by_sha.setdefault(f.label_sha256, []).append(f.filename)
    sizes: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for sha, data in ctx.blobs.read_many(ws, list(by_sha)):
        sizes[sha] = len(data)
        try:
            parse_document(json.loads(data), "labels")
        except (ValueError, LabelError) as exc:
            problems += [(name, f"its label document is not valid: {exc}") for name in by_sha[sha]]
    if problems:
        raise ImportRejected(problems)
    return sizes


async def forget_new_blobs(ctx: ServiceContext, ws: str, queued: set[str]) -> None:
    """A failed import or upload takes back the blobs it handed to the store, so the
    store is as it was (a blob that was already there as garbage goes too, harmlessly).

    Done under the catalog write lock, and only for digests no file record names:
    whatever the catalog references, now or from another import, stays."""
    if not queued:
        return
    try:
        async with ctx.catalog.writing(ws) as uow:
            unreferenced = queued - await uow.files.known(queued)
            await asyncio.to_thread(ctx.blobs.delete_many, ws, unreferenced)
    except ApplianceError:
        pass  # the store is down: `ahoy gc` sweeps these orphans later
