"""A version as a streamed tar: the bytes a remote pull writes to disk.

Small blobs are read in the store's own order (one request per pack on
SeaweedFS); large ones are streamed. Erased content is left out (the manifest
says which). A file held under several names is read once. A pull asks for the
label documents too: they follow the files as ``.ahoy/labels/<filename>.json``
(``appliance.domain.pulled``), the exact stored bytes.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from appliance.domain.manifest import ManifestRow
from appliance.domain.names import check_filename
from appliance.domain.pulled import LAYOUTS, META, clashes, file_path, label_path
from appliance.domain.records import Version
from appliance.errors import BlobMissing, Conflict, InvalidInput
from appliance.iostreams import ChunkSink, iter_reader
from appliance.services.context import ServiceContext
from appliance.services.versions import manifest

SMALL = 8 << 20
PIECE = 1 << 20


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
        return file_path(row.filename, row.split, self.layout)


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
        sizes = await uow.versions.file_sizes(version.id)
        erased = await uow.files.erased({r.sha256 for r in rows})
    for r in rows:
        check_filename(r.filename)
    return ArchivePlan(version, [r for r in rows if r.sha256 not in erased], sizes, layout)


Member = tuple[str, bytes]


def tar_chunks(
    ctx: ServiceContext,
    ws: str,
    archive: ArchivePlan,
    *,
    name_of: Callable[[ManifestRow], str] | None = None,
    head: Sequence[Member] = (),
    extra: Callable[[ManifestRow], list[Member]] = lambda row: [],
    tail: Callable[[], Iterable[Member]] | None = None,
) -> Iterator[bytes]:
    """Blocking: run in a worker thread (the web layer streams it).

    ``head`` files first, then for each row its blob under ``name_of(row)`` (the
    plan's layout by default) followed by its ``extra`` members (e.g. a label file),
    then the members ``tail()`` yields (read only once the files are sent).
    Members come in the order the store reads them back (pack by pack, one
    request each), not by name: a tar's order carries no meaning, and reading
    packs in their own order is what makes this as fast as a local pull. Large
    blobs are streamed, not held. Yields ~1 MiB pieces, each one hop from the
    worker thread to the event loop."""
    name = name_of or archive.member_name
    by_sha: dict[str, list[ManifestRow]] = {}
    for row in archive.rows:
        by_sha.setdefault(row.sha256, []).append(row)
    small = [sha for sha in by_sha if archive.sizes.get(sha, 0) <= SMALL]
    sink = ChunkSink()
    mtime = int(archive.version.created_at)

    def info(member: str, size: int) -> tarfile.TarInfo:
        entry = tarfile.TarInfo(member)
        entry.size, entry.mtime, entry.mode = size, mtime, 0o644
        return entry

    def add_extra(tar: tarfile.TarFile, members: Sequence[Member]) -> None:
        for member, data in members:
            tar.addfile(info(member, len(data)), io.BytesIO(data))

    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        add_extra(tar, head)
        for sha, data in ctx.blobs.read_many(ws, small):
            for row in by_sha[sha]:
                tar.addfile(info(name(row), len(data)), io.BytesIO(data))
                add_extra(tar, extra(row))
            if sink.held >= PIECE:
                yield from sink.drain()
        for sha in by_sha.keys() - set(small):
            for row in by_sha[sha]:
                size = archive.sizes.get(sha, 0)
                tar.addfile(info(name(row), size), iter_reader(ctx.blobs.stream(ws, sha)))
                add_extra(tar, extra(row))
                yield from sink.drain()
        for member in tail() if tail is not None else ():
            add_extra(tar, [member])
            if sink.held >= PIECE:
                yield from sink.drain()
    yield from sink.drain()


async def check_labels(ctx: ServiceContext, ws: str, archive: ArchivePlan) -> int:
    """Before a pull's archive with labels starts: no file may sit where the label
    documents go, and every label document must be in the store. Returns how many
    label documents the archive will hold."""
    if archive.layout == "tree" and (clash := clashes(r.filename for r in archive.rows)):
        raise Conflict(
            f"{len(clash)} files of this version are under {META}/, where a pull keeps its"
            f" manifest and label documents (first: {clash[0]})",
            hint="pull with --layout split, or --bare for the files alone",
        )
    digests = {r.label_sha256 for r in archive.rows if r.label_sha256}
    lacking = await asyncio.to_thread(ctx.blobs.missing, ws, digests)
    if lacking:
        raise BlobMissing(ws, sorted(lacking)[0])
    return sum(1 for r in archive.rows if r.label_sha256)


def label_members(ctx: ServiceContext, ws: str, archive: ArchivePlan) -> Iterator[Member]:
    """Blocking: each row's label document, as stored, under ``label_path``; read
    pack by pack like the files, a document shared by several files once."""
    names: dict[str, list[str]] = {}
    for row in archive.rows:
        if row.label_sha256:
            names.setdefault(row.label_sha256, []).append(row.filename)
    for sha, data in ctx.blobs.read_many(ws, list(names)):
        for filename in names[sha]:
            yield label_path(filename), data
