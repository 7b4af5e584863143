"""A version as a streamed tar: the bytes a remote pull writes to disk.

Small blobs are read in batches (one request per pack on SeaweedFS); large ones
are streamed. Erased content is left out (the manifest says which).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass

from appliance.domain.manifest import ManifestRow
from appliance.domain.names import check_filename
from appliance.domain.records import Version
from appliance.errors import InvalidInput, NotFound
from appliance.iostreams import ChunkSink, iter_reader
from appliance.services.context import ServiceContext
from appliance.services.pull import LAYOUTS
from appliance.services.versions import manifest

BATCH = 256
SMALL = 8 << 20


@dataclass(frozen=True)
class ArchivePlan:
    version: Version
    rows: list[ManifestRow]
    sizes: dict[str, int]
    layout: str

    @property
    def bytes(self) -> int:
        return sum(self.sizes.get(r.sha256, 0) for r in self.rows)

    def member_name(self, row: ManifestRow) -> str:
        return f"{row.split}/{row.filename}" if self.layout == "split" else row.filename


async def plan(
    ctx: ServiceContext, ws: str, slug: str, ref: str, split: str | None, layout: str
) -> ArchivePlan:
    if layout not in LAYOUTS:
        raise InvalidInput(f"layout {layout!r} is not known", hint=f"use one of {LAYOUTS}")
    version, rows = await manifest(ctx, ws, slug, ref)
    if version is None:
        raise InvalidInput("the working area has no archive", hint="commit it first")
    if split is not None:
        rows = [r for r in rows if r.split == split]
    async with ctx.catalog.reading(ws) as uow:
        sizes = await uow.file_sizes(version.id)
        erased = await uow.erased_digests({r.sha256 for r in rows})
    for r in rows:
        check_filename(r.filename)
    return ArchivePlan(version, [r for r in rows if r.sha256 not in erased], sizes, layout)


def tar_chunks(ctx: ServiceContext, ws: str, archive: ArchivePlan) -> Iterator[bytes]:
    """Blocking: run in a worker thread (the web layer streams it)."""
    sink = ChunkSink()
    mtime = int(archive.version.created_at)
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for start in range(0, len(archive.rows), BATCH):
            batch = archive.rows[start : start + BATCH]
            small = {r.sha256 for r in batch if archive.sizes.get(r.sha256, 0) <= SMALL}
            data = dict(ctx.blobs.read_many(ws, small)) if small else {}
            for row in batch:
                info = tarfile.TarInfo(archive.member_name(row))
                info.size = archive.sizes.get(row.sha256, 0)
                info.mtime, info.mode = mtime, 0o644
                info.pax_headers = {"AHOY.sha256": row.sha256}
                if row.sha256 in data:
                    tar.addfile(info, io.BytesIO(data[row.sha256]))
                else:
                    tar.addfile(info, iter_reader(ctx.blobs.stream(ws, row.sha256)))
                yield from sink.drain()
    yield from sink.drain()


async def one_file(
    ctx: ServiceContext, ws: str, slug: str, ref: str, filename: str
) -> tuple[ManifestRow, int]:
    version, rows = await manifest(ctx, ws, slug, ref)
    row = next((r for r in rows if r.filename == filename), None)
    if row is None or version is None:
        raise NotFound("file", filename, hint="the version's manifest lists its files")
    async with ctx.catalog.reading(ws) as uow:
        if await uow.erased_digests({row.sha256}):
            raise NotFound("file", filename, hint="its content was erased (GDPR)")
        sizes = await uow.file_sizes(version.id)
    return row, sizes.get(row.sha256, 0)
