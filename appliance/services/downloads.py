"""Stored bytes going out over the network: one blob by its hash, or one file of
a version. The bytes come as chunks read in a worker thread; the blob store
verifies them as the last chunk is read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from appliance.domain.manifest import ManifestRow
from appliance.errors import NotFound
from appliance.services.context import ServiceContext
from appliance.services.versions import manifest


@dataclass(frozen=True)
class Download:
    sha256: str
    size: int
    #: Blocking: nothing is read until the first ``next``.
    chunks: Iterator[bytes]


async def blob(ctx: ServiceContext, ws: str, sha256: str) -> Download:
    """A blob the workspace's catalog has a live (not erased) file record for;
    the size comes from that record."""
    async with ctx.catalog.reading(ws) as uow:
        sizes = await uow.files.sizes({sha256})
    if sha256 not in sizes:
        raise NotFound("blob", sha256)
    return Download(sha256, sizes[sha256], ctx.blobs.stream(ws, sha256))


async def version_file(
    ctx: ServiceContext, ws: str, slug: str, ref: str, filename: str
) -> tuple[ManifestRow, Download]:
    version, rows = await manifest(ctx, ws, slug, ref)
    row = next((r for r in rows if r.filename == filename), None)
    if row is None or version is None:
        raise NotFound("file", filename, hint="the version's manifest lists its files")
    async with ctx.catalog.reading(ws) as uow:
        if await uow.files.erased({row.sha256}):
            raise NotFound("file", filename, hint="its content was erased (GDPR)")
        sizes = await uow.versions.file_sizes(version.id)
    return row, Download(row.sha256, sizes.get(row.sha256, 0), ctx.blobs.stream(ws, row.sha256))
