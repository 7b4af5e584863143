"""Reclaim what nothing references, after a grace period; check what is referenced."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from appliance.services.context import ServiceContext


@dataclass(frozen=True)
class GcReport:
    marked: int
    reclaimed_blobs: int
    reclaimed_bytes: int
    store_orphans: int
    erased_purged: int
    dry_run: bool

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


async def collect(
    ctx: ServiceContext,
    ws: str,
    actor: str,
    grace_seconds: int | None = None,
    dry_run: bool = False,
) -> GcReport:
    """Mark, then sweep. Bytes are deleted while the catalog write lock is held, so
    no import can stage a reference to a blob between the check and the delete;
    an import that staged one just before re-puts it in its repair step."""
    grace = ctx.settings.gc_grace_seconds if grace_seconds is None else grace_seconds
    cutoff = time.time() - grace
    async with ctx.catalog.writing(ws) as uow:
        marked = await uow.storage.mark_orphans()
        doomed = await uow.storage.reclaimable(cutoff)
        if dry_run:
            return GcReport(marked, len(doomed), sum(s for _, s in doomed), 0, 0, True)
        await uow.storage.forget([sha for sha, _ in doomed])
        reclaimed = await asyncio.to_thread(ctx.blobs.delete_many, ws, [s for s, _ in doomed])
        # Bytes an erasure could not delete at the time (store down) go now.
        purged = await asyncio.to_thread(_purge_erased, ctx, ws, await uow.storage.erased())
        # Whole blobs a crashed import left without a file record.
        known = await uow.storage.all_digests()
        listed = await asyncio.to_thread(lambda: list(ctx.blobs.list_blobs(ws)))
        orphans = [b.sha256 for b in listed if b.sha256 not in known and b.stored_at <= cutoff]
        await asyncio.to_thread(ctx.blobs.delete_many, ws, orphans)
        await uow.audit.record(
            actor, "gc", ws, blobs=len(doomed), orphans=len(orphans), grace=grace
        )
    return GcReport(marked, len(doomed), reclaimed, len(orphans), purged, False)


def _purge_erased(ctx: ServiceContext, ws: str, erased: set[str]) -> int:
    present = erased - ctx.blobs.missing(ws, erased) if erased else set()
    if present:
        ctx.blobs.delete_many(ws, present)
    return len(present)


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    missing: list[str]
    corrupt: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.corrupt

    def as_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "missing": self.missing,
            "corrupt": self.corrupt,
            "ok": self.ok,
        }


async def verify(ctx: ServiceContext, ws: str, deep: bool = False) -> VerifyReport:
    """Every live file record must resolve to a blob (``deep``: and read back intact)."""
    from appliance.errors import BlobCorrupt

    async with ctx.catalog.reading(ws) as uow:
        live = await uow.storage.live_digests()

    def check() -> VerifyReport:
        missing = sorted(ctx.blobs.missing(ws, live))
        corrupt: list[str] = []
        if deep:
            for sha in sorted(live - set(missing)):
                try:
                    for _ in ctx.blobs.stream(ws, sha):
                        pass
                except BlobCorrupt:
                    corrupt.append(sha)
        return VerifyReport(len(live), missing, corrupt)

    return await asyncio.to_thread(check)
