"""Put named, already-stored blobs into a dataset's working area.

Both the in-process import and the HTTP upload end here: one transaction that
refuses erased content, optionally mirrors a folder (drops names it no longer
has), and records the files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

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
    erased = await uow.erased() & {f.sha256 for f in files}
    if erased:
        raise ImportRejected([(f.filename, ERASED) for f in files if f.sha256 in erased])
    current = await uow.working_files(ds.id)
    remove: list[str] = []
    if mirror_prefix is not None:
        names = {f.filename for f in files}
        base = mirror_prefix.strip("/")
        remove = [n for n in current if n not in names and (not base or n.startswith(base + "/"))]
    staged = await uow.stage(ds.id, files, remove=remove, current=current)
    return staged, current


async def stage_uploaded(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    entries: Iterable[tuple[str, str, int]],
    actor: str,
    mirror_prefix: str | None = None,
) -> StageResult:
    """Stage (name, sha256, size) entries whose blobs a client uploaded before."""
    files: list[StagedFile] = []
    seen: set[str] = set()
    problems: list[tuple[str, str]] = []
    for name, sha, size in entries:
        try:
            check_filename(name)
        except InvalidInput as exc:
            problems.append((name, exc.message))
            continue
        if name in seen:
            problems.append((name, "this name is given twice"))
        seen.add(name)
        files.append(StagedFile(name, sha, size, role_for(name)))
    if problems:
        raise ImportRejected(problems)
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.get_dataset(slug)
        # Checked under the write lock, which GC also takes to delete: a blob seen
        # here cannot vanish before the names referencing it are committed.
        lacking = await asyncio.to_thread(ctx.blobs.missing, ws, {f.sha256 for f in files})
        if lacking:
            raise BlobsNotUploaded(
                [
                    (f.filename, f"its content sha256:{f.sha256} was not uploaded")
                    for f in files
                    if f.sha256 in lacking
                ],
                sorted(lacking),
            )
        known = await uow.file_sizes_of({f.sha256 for f in files})
        # The size on record wins over a client's claim for content already known.
        files = [
            StagedFile(f.filename, f.sha256, known.get(f.sha256, f.size), f.role) for f in files
        ]
        staged, _ = await stage_in(uow, ds, files, mirror_prefix)
        await uow.audit(actor, "dataset.stage", slug, counts=staged.as_dict())
    return staged


async def forget_new_blobs(ctx: ServiceContext, ws: str, queued: set[str]) -> None:
    """A failed import or upload takes back the blobs it handed to the store, so the
    store is as it was (a blob that was already there as garbage goes too, harmlessly).

    Done under the catalog write lock, and only for digests no file record names:
    whatever the catalog references, now or from another import, stays."""
    if not queued:
        return
    try:
        async with ctx.catalog.writing(ws) as uow:
            unreferenced = queued - await uow.known_digests(queued)
            await asyncio.to_thread(ctx.blobs.delete_many, ws, unreferenced)
    except ApplianceError:
        pass  # the store is down: `ahoy gc` sweeps these orphans later
