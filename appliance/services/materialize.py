"""Lay a dataset version out on disk as a YOLO dataset, in its frozen split: what a
training or evaluation job reads. The same tar the export endpoint streams is
unpacked here, so there is one writer of the layout; its files are written through
``appliance.destination`` like every other folder the appliance fills."""

from __future__ import annotations

import asyncio
import tarfile
from collections.abc import Iterator
from pathlib import Path

from appliance.destination import Destination, chunks_of
from appliance.domain.names import check_filename
from appliance.errors import InvalidInput
from appliance.services.context import ServiceContext
from appliance.services.labels import YoloExport, plan_yolo, yolo_chunks


class _ChunkReader:
    """A file object over an iterator of byte chunks (for ``tarfile`` stream mode)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            try:
                self.buffer += next(self.chunks)
            except StopIteration:
                break
        if size < 0:
            out, self.buffer = self.buffer, b""
        else:
            out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out


async def write_yolo(
    ctx: ServiceContext, ws: str, slug: str, ref: str, task: str, dest: Path
) -> YoloExport:
    """``dest/data.yaml`` (with an absolute ``path``), ``images/<split>/``,
    ``labels/<split>/``. Refuses a version a trainer cannot use."""
    export = await plan_yolo(ctx, ws, slug, ref, task, None)
    splits = {r.split for r in export.archive.rows}
    number = export.archive.version.number
    if "train" not in splits or "val" not in splits:
        raise InvalidInput(
            f"{slug}@{number} has no {'train' if 'train' not in splits else 'val'} images",
            hint="training needs train and val splits: add images, or commit with a split"
            " that gives val a share",
        )
    if not any(r.label_sha256 for r in export.archive.rows):
        raise InvalidInput(f"{slug}@{number} has no labels", hint="label some images first")
    await asyncio.to_thread(_unpack, yolo_chunks(ctx, ws, export), dest)
    return export


def _unpack(chunks: Iterator[bytes], dest: Path) -> None:
    """Plain files only, under safe names; ``data.yaml`` gets the folder's real path."""
    with (
        Destination.open(dest) as out,
        tarfile.open(fileobj=_ChunkReader(chunks), mode="r|") as tar,  # type: ignore[call-overload]
    ):
        for member in tar:
            if member.isdir():
                continue
            if not member.isreg():
                raise InvalidInput(f"the layout's member {member.name!r} is not a file")
            name = check_filename(member.name)
            src = tar.extractfile(member)
            assert src is not None
            if name == "data.yaml":
                text = src.read().decode().replace("path: .\n", f"path: {out.root.resolve()}\n", 1)
                out.write(name, [text.encode()])
            else:
                out.write(name, chunks_of(src))
