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
from pathlib import Path

from appliance.domain.names import role_for
from appliance.domain.records import StagedFile, StageResult
from appliance.ingest.hashing import Hashed, default_workers, hash_files
from appliance.ingest.scan import SourceFile, scan_tree
from appliance.ingest.statcache import StatCache
from appliance.ports.blobstore import BlobPut
from appliance.progress import NoProgress, Progress
from appliance.services.context import ServiceContext
from appliance.services.staging import forget_new_blobs, stage_in


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
        ds = await uow.datasets.get(slug)  # fail fast, before any work
        current = await uow.files.working(ds.id)
    files = await asyncio.to_thread(scan_tree, root, prefix, exclude)
    cache = StatCache(ctx.settings.cache_dir / "statcache.sqlite")
    upload = _Upload(ctx, ws, progress)
    try:
        known = await asyncio.to_thread(cache.lookup, files)
        # Unchanged on disk and already in the working area under the same name:
        # the blob is referenced, so there is nothing to hash, negotiate or upload.
        trusted = {
            f.name: sha
            for f in files
            if (sha := known.get(f.path)) is not None
            and (w := current.get(f.name)) is not None
            and w.sha256 == sha
        }
        todo = [f for f in files if f.name not in trusted]
        await asyncio.to_thread(upload.run, todo, known)
        digests = {**trusted, **upload.digests}
        staged, moved = await _stage(
            ctx, ws, slug, files, digests, trusted, actor, root, prefix, mirror
        )
    except BaseException:
        await forget_new_blobs(ctx, ws, upload.queued)
        cache.close()
        raise
    try:
        check = [f for f in todo if f.name in digests] + [f for f in files if f.name in moved]
        await asyncio.to_thread(_repair_lost_blobs, ctx, ws, check, digests)
        fresh = [f for f in todo if f.path not in known]
        await asyncio.to_thread(cache.remember, ((f, digests[f.name]) for f in fresh))
    finally:
        cache.close()
    return ImportReport(slug, len(files), sum(f.size for f in files), upload.stored, staged)


async def _stage(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    files: list[SourceFile],
    digests: dict[str, str],
    trusted: dict[str, str],
    actor: str,
    root: Path,
    prefix: str,
    mirror: bool,
) -> tuple[StageResult, set[str]]:
    """One transaction. Also returns the trusted names whose working-area entry
    changed since we looked (a concurrent rm): their blobs get re-checked."""
    staged_files = [StagedFile(f.name, digests[f.name], f.size, role_for(f.name)) for f in files]
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.datasets.get(slug)
        staged, current = await stage_in(uow, ds, staged_files, prefix if mirror else None)
        moved = {
            n for n, sha in trusted.items() if (w := current.get(n)) is None or w.sha256 != sha
        }
        await uow.audit.record(
            actor, "dataset.import", slug, source=str(root), counts=staged.as_dict()
        )
    return staged, moved


class _Upload:
    """Hash every file and hand each new digest to the store, as one stream so the
    store can pack and upload while the next files are still being hashed.

    The store skips digests it already holds (its index or a stat says so), which
    is the dedup negotiation in-process: asking first with ``missing`` would cost a
    second lookup per file for nothing."""

    def __init__(self, ctx: ServiceContext, ws: str, progress: Progress) -> None:
        self.ctx, self.ws, self.progress = ctx, ws, progress
        self.digests: dict[str, str] = {}
        self.queued: set[str] = set()
        self.stored = 0

    def run(self, files: list[SourceFile], known: dict[str, str]) -> None:
        self.progress.start("import", sum(f.size for f in files), unit="bytes")
        workers = default_workers(self.ctx.settings.import_workers)
        self.stored = self.ctx.blobs.put_many(self.ws, self._blobs(files, known, workers))
        self.progress.finish()

    def _blobs(
        self, files: list[SourceFile], known: dict[str, str], workers: int
    ) -> Iterator[BlobPut]:
        for h in hash_files(files, known, workers):
            self.digests[h.source.name] = h.sha256
            if h.sha256 not in self.queued:
                self.queued.add(h.sha256)
                yield _blob_put(h)
            self.progress.advance(h.source.size)


def _blob_put(h: Hashed) -> BlobPut:
    if h.data is not None:
        return BlobPut(h.sha256, h.source.size, data=h.data)
    return BlobPut(h.sha256, h.source.size, path=h.source.path)


def _repair_lost_blobs(
    ctx: ServiceContext, ws: str, files: list[SourceFile], digests: dict[str, str]
) -> None:
    """A GC running while we hashed may have reclaimed a blob we found present;
    now that the catalog references it, no GC will again, so put it back."""
    lost = ctx.blobs.missing(ws, {digests[f.name] for f in files})
    if not lost:
        return
    by_sha = {digests[f.name]: f for f in files}
    ctx.blobs.put_many(ws, (BlobPut(sha, by_sha[sha].size, path=by_sha[sha].path) for sha in lost))
