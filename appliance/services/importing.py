"""Import a folder into a dataset's working area.

Order matters for crash safety: scan (refuse bad trees before storing anything),
hash, upload only the blobs the store lacks, and only then record the files in
one catalog transaction. A kill at any point leaves, at worst, whole blobs that
nothing references yet; the GC reclaims them and a re-run of the import reuses
them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from appliance.domain.names import role_for
from appliance.domain.records import StagedFile, StageResult
from appliance.ingest.hashing import Hashed, default_workers, hash_files
from appliance.ingest.scan import SourceFile, scan_tree
from appliance.ingest.statcache import StatCache
from appliance.ports.blobstore import BlobPut
from appliance.services.context import ServiceContext
from appliance.services.progress import NoProgress, Progress

BATCH = 128


@dataclass(frozen=True)
class ImportReport:
    dataset: str
    files: int
    bytes: int
    new_blobs: int
    staged: StageResult

    def as_dict(self) -> dict[str, object]:
        return {
            "dataset": self.dataset,
            "files": self.files,
            "bytes": self.bytes,
            "new_blobs": self.new_blobs,
            **self.staged.as_dict(),
        }


async def import_tree(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    root: Path,
    actor: str,
    *,
    prefix: str = "",
    exclude: tuple[str, ...] = (),
    mirror: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Add ``root`` to the working area; with ``mirror`` also drop names under
    ``prefix`` that the tree no longer has."""
    progress = progress or NoProgress()
    async with ctx.catalog.reading(ws) as uow:
        await uow.get_dataset(slug)  # fail fast, before any work
    files = await asyncio.to_thread(scan_tree, root, prefix, exclude)
    cache = StatCache(ctx.settings.cache_dir / "statcache.sqlite")
    try:
        known = await asyncio.to_thread(cache.lookup, files)
        digests, new_blobs = await asyncio.to_thread(
            _store_blobs, ctx, ws, files, known, progress
        )
        staged_files = [
            StagedFile(f.name, digests[f.name], f.size, role_for(f.name)) for f in files
        ]
        async with ctx.catalog.writing(ws) as uow:
            ds = await uow.get_dataset(slug)
            remove: list[str] = []
            if mirror:
                names = {f.name for f in files}
                base = prefix.strip("/")
                remove = [
                    n for n in await uow.working_files(ds.id)
                    if n not in names and (not base or n.startswith(base + "/"))
                ]
            staged = await uow.stage(ds.id, staged_files, remove=remove)
            await uow.audit(actor, "dataset.import", slug, source=str(root), **staged.as_dict())
        await asyncio.to_thread(_repair_lost_blobs, ctx, ws, files, digests)
        await asyncio.to_thread(cache.remember, ((f, digests[f.name]) for f in files))
    finally:
        cache.close()
    return ImportReport(slug, len(files), sum(f.size for f in files), new_blobs, staged)


def _store_blobs(
    ctx: ServiceContext,
    ws: str,
    files: list[SourceFile],
    known: dict[str, str],
    progress: Progress,
) -> tuple[dict[str, str], int]:
    """Hash every file and upload the ones the store lacks, as one stream so the
    store can pack and upload while the next files are still being hashed."""
    digests: dict[str, str] = {}
    queued: set[str] = set()
    workers = default_workers(ctx.settings.import_workers)
    progress.start("import", sum(f.size for f in files), unit="bytes")

    def blobs() -> Iterator[BlobPut]:
        hashed = hash_files(files, known, workers)
        while batch := list(islice(hashed, BATCH)):
            wanted = {h.sha256 for h in batch} - queued
            missing = ctx.blobs.missing(ws, wanted) if wanted else set()
            for h in batch:
                digests[h.source.name] = h.sha256
                if h.sha256 in missing and h.sha256 not in queued:
                    queued.add(h.sha256)
                    yield _blob_put(h)
                progress.advance(h.source.size)

    new_blobs = ctx.blobs.put_many(ws, blobs())
    progress.finish()
    return digests, new_blobs


def _blob_put(h: Hashed) -> BlobPut:
    if h.data is not None:
        return BlobPut(h.sha256, h.source.size, data=h.data)
    return BlobPut(h.sha256, h.source.size, path=h.source.path)


def _repair_lost_blobs(
    ctx: ServiceContext, ws: str, files: list[SourceFile], digests: dict[str, str]
) -> None:
    """A GC running while we hashed may have reclaimed a blob we found present;
    now that the catalog references it, no GC will again, so put it back."""
    lost = ctx.blobs.missing(ws, set(digests.values()))
    if not lost:
        return
    by_sha = {digests[f.name]: f for f in files}
    ctx.blobs.put_many(
        ws, (BlobPut(sha, by_sha[sha].size, path=by_sha[sha].path) for sha in lost)
    )
