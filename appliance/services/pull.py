"""Rebuild a version on disk, byte for byte, verifying every blob: its files, and
in ``dest/.ahoy/`` its manifest and each file's label document (the layout is
``appliance.domain.pulled``'s, the same as a pull over HTTP writes).

Every write goes through ``appliance.destination``: nothing inside ``dest`` is
followed, so a link planted there cannot send a file elsewhere. The blob store
verifies every read (``BlobStore.read_many`` and ``stream``)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

from appliance.destination import Destination, write_file
from appliance.domain.manifest import ManifestRow
from appliance.domain.names import check_filename
from appliance.domain.pulled import MANIFEST, META, clashes, file_path, label_path
from appliance.domain.pulled import manifest_document as pull_manifest
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
    labels: int = 0
    meta: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "manifest_hash": self.manifest_hash,
            "files": self.files,
            "bytes": self.bytes,
            "erased": self.erased,
            "labels": self.labels,
            "meta": self.meta,
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
    bare: bool = False,
    progress: Progress | None = None,
) -> PullReport:
    """Write version ``ref`` (or one ``split`` of it) under ``dest``; as
    ``appliance.sdk.pull.pull`` does over HTTP."""
    if layout not in LAYOUTS:
        raise InvalidInput(f"layout {layout!r} is not known", hint=f"use one of {LAYOUTS}")
    version, rows = await manifest(ctx, ws, slug, ref)
    assert version is not None
    if split is not None:
        rows = [r for r in rows if r.split == split]
    async with ctx.catalog.reading(ws) as uow:
        sizes = await uow.versions.file_sizes(version.id)
    erased = await erased_rows(ctx, ws, rows)
    erased_shas = {str(e["sha256"]) for e in erased}
    kept = [r for r in rows if r.sha256 not in erased_shas]
    targets = [(r, file_path(r.filename, r.split, layout)) for r in kept]
    for row, _ in targets:
        check_filename(row.filename)  # defence in depth: never write outside dest
    if not bare and layout == "tree" and (clash := clashes(r.filename for r in kept)):
        raise Conflict(
            f"{len(clash)} files of {slug}@{version.number} are under {META}/, where a pull"
            f" keeps its manifest and label documents (first: {clash[0]})",
            hint="pull with --layout split, or --bare for the files alone",
        )
    labelled = set() if bare else {r.filename for r in kept if r.label_sha256}
    doc = pull_manifest(
        dataset=slug,
        version=version.number,
        manifest_hash=version.manifest_hash,
        split_config=version.split.as_dict(),
        layout=layout,
        only_split=split,
        rows=[r.as_dict() for r in rows],
        written={r.filename for r in kept},
        labelled=labelled,
        erased=erased,
    )
    data = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode()
    meta = [] if bare else [(MANIFEST, data)]
    await asyncio.to_thread(_write_all, ctx, ws, dest, force, targets, sizes, meta, progress)
    if manifest_out is not None:
        await asyncio.to_thread(write_file, manifest_out, [data])
    return PullReport(
        version.number,
        version.manifest_hash,
        len(kept),
        sum(sizes.get(r.sha256, 0) for r in kept),
        erased,
        labels=len(labelled),
        meta=None if bare else str(dest / META),
    )


def _write_all(
    ctx: ServiceContext,
    ws: str,
    dest: Path,
    force: bool,
    targets: list[tuple[ManifestRow, str]],
    sizes: dict[str, int],
    meta: list[tuple[str, bytes]],
    progress: Progress | None,
) -> None:
    with Destination.open(dest) as out:
        if out.entries() and not force:
            raise Conflict(f"{dest} is not empty", hint="pull into a new folder or pass --force")
        _write_blobs(ctx, ws, out, targets, sizes, progress or NoProgress())
        if meta:
            _write_labels(ctx, ws, out, [row for row, _ in targets])
        for name, data in meta:
            out.write(name, [data])


def _write_labels(ctx: ServiceContext, ws: str, out: Destination, rows: list[ManifestRow]) -> None:
    """Each row's label document as stored (read verified) under ``label_path``."""
    names: dict[str, list[str]] = {}
    for row in rows:
        if row.label_sha256:
            names.setdefault(row.label_sha256, []).append(row.filename)
    for sha, data in ctx.blobs.read_many(ws, list(names)):
        for filename in names[sha]:
            out.write(label_path(filename), [data])


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
