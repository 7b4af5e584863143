"""Rebuild a version's tree on disk, byte for byte, verifying every blob.

Every write goes through ``appliance.destination``: nothing inside ``dest`` is
followed, so a link planted there cannot send a file elsewhere."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

from appliance.destination import Destination, write_file
from appliance.domain.manifest import ManifestRow
from appliance.domain.names import check_filename
from appliance.errors import Conflict, InvalidInput
from appliance.progress import NoProgress, Progress
from appliance.services.context import ServiceContext
from appliance.services.erasure import erased_rows
from appliance.services.versions import manifest

SMALL_BLOB = 4 << 20
LAYOUTS = ("tree", "split")


@dataclass(frozen=True)
class PullReport:
    version: int
    manifest_hash: str
    files: int
    bytes: int
    erased: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "manifest_hash": self.manifest_hash,
            "files": self.files,
            "bytes": self.bytes,
            "erased": self.erased,
        }


async def pull(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    ref: str,
    dest: Path,
    *,
    split: str | None = None,
    layout: str = "tree",
    manifest_out: Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> PullReport:
    if layout not in LAYOUTS:
        raise InvalidInput(f"layout {layout!r} is not known", hint=f"use one of {LAYOUTS}")
    version, rows = await manifest(ctx, ws, slug, ref)
    assert version is not None
    if split is not None:
        rows = [r for r in rows if r.split == split]
    async with ctx.catalog.reading(ws) as uow:
        sizes = await uow.file_sizes(version.id)
    erased = await erased_rows(ctx, ws, rows)
    erased_shas = {str(e["sha256"]) for e in erased}
    rows = [r for r in rows if r.sha256 not in erased_shas]
    targets = [(r, f"{r.split}/{r.filename}" if layout == "split" else r.filename) for r in rows]
    for row, _ in targets:
        check_filename(row.filename)  # defence in depth: never write outside dest
    await asyncio.to_thread(_write_all, ctx, ws, dest, force, targets, sizes, progress)
    if manifest_out is not None:
        doc = {
            "dataset": slug,
            "version": version.number,
            "manifest_hash": version.manifest_hash,
            "split": version.split.as_dict(),
            "files": [r.as_dict() for r in rows],
            "erased": erased,
        }
        await asyncio.to_thread(
            write_file, manifest_out, [json.dumps(doc, indent=1, sort_keys=True).encode()]
        )
    return PullReport(
        version.number,
        version.manifest_hash,
        len(rows),
        sum(sizes.get(r.sha256, 0) for r in rows),
        erased,
    )


def _write_all(
    ctx: ServiceContext,
    ws: str,
    dest: Path,
    force: bool,
    targets: list[tuple[ManifestRow, str]],
    sizes: dict[str, int],
    progress: Progress | None,
) -> None:
    with Destination.open(dest) as out:
        if out.entries() and not force:
            raise Conflict(f"{dest} is not empty", hint="pull into a new folder or pass --force")
        _write_blobs(ctx, ws, out, targets, sizes, progress or NoProgress())


def _write_blobs(
    ctx: ServiceContext,
    ws: str,
    out: Destination,
    targets: list[tuple[ManifestRow, str]],
    sizes: dict[str, int],
    progress: Progress,
) -> None:
    by_sha: dict[str, list[str]] = {}
    for row, name in targets:
        by_sha.setdefault(row.sha256, []).append(name)
    progress.start("pull", sum(sizes.get(r.sha256, 0) for r, _ in targets), unit="bytes")
    small = [s for s in by_sha if sizes.get(s, 0) <= SMALL_BLOB]
    for sha, data in ctx.blobs.read_many(ws, small):
        for name in by_sha[sha]:
            out.write(name, [data])
            progress.advance(len(data))
    for sha in by_sha.keys() - set(small):
        names = by_sha[sha]
        out.write(names[0], ctx.blobs.stream(ws, sha))
        for extra in names[1:]:  # a large duplicate is copied from disk, not held in memory
            out.write(extra, out.read(names[0]))
        progress.advance(sizes[sha] * len(names))
    progress.finish()
