"""Rebuild a version's tree on disk, byte for byte, verifying every blob."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

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
    if dest.exists() and any(dest.iterdir()) and not force:
        raise Conflict(f"{dest} is not empty", hint="pull into a new folder or pass --force")
    targets = [
        (r, dest / (f"{r.split}/{r.filename}" if layout == "split" else r.filename)) for r in rows
    ]
    for row, _ in targets:
        check_filename(row.filename)  # defence in depth: never write outside dest
    await asyncio.to_thread(_write_all, ctx, ws, targets, sizes, progress or NoProgress())
    if manifest_out is not None:
        manifest_out.parent.mkdir(parents=True, exist_ok=True)
        manifest_out.write_text(
            json.dumps(
                {
                    "dataset": slug,
                    "version": version.number,
                    "manifest_hash": version.manifest_hash,
                    "split": version.split.as_dict(),
                    "files": [r.as_dict() for r in rows],
                    "erased": erased,
                },
                indent=1,
                sort_keys=True,
            )
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
    targets: list[tuple[ManifestRow, Path]],
    sizes: dict[str, int],
    progress: Progress,
) -> None:
    by_sha: dict[str, list[Path]] = {}
    for row, path in targets:
        by_sha.setdefault(row.sha256, []).append(path)
    progress.start("pull", sum(sizes.get(r.sha256, 0) for r, _ in targets), unit="bytes")
    made: set[Path] = set()
    small = [s for s in by_sha if sizes.get(s, 0) <= SMALL_BLOB]
    for sha, data in ctx.blobs.read_many(ws, small):
        for path in by_sha[sha]:
            _write_file(path, [data], made)
            progress.advance(len(data))
    for sha in by_sha.keys() - set(small):
        paths = by_sha[sha]
        _write_file(paths[0], ctx.blobs.stream(ws, sha), made)
        for extra in paths[1:]:
            _write_file(extra, _file_chunks(paths[0]), made)
        progress.advance(sizes[sha] * len(paths))
    progress.finish()


def _write_file(path: Path, chunks: object, made: set[Path]) -> None:
    """Write aside, then rename: a file is either absent or whole."""
    parent = path.parent
    if parent not in made:
        parent.mkdir(parents=True, exist_ok=True)
        made.add(parent)
    tmp = parent / f".{path.name}.ahoy-partial"
    try:
        with open(tmp, "wb") as fh:
            for chunk in chunks:  # type: ignore[attr-defined]
                fh.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _file_chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    """A written file's bytes in chunks, so a large duplicate never sits in memory."""
    with open(path, "rb") as fh:
        while chunk := fh.read(size):
            yield chunk
