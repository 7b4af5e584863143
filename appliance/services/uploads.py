"""Blobs arriving over the network: hashed on arrival, all or nothing.

A batch is a plain tar stream whose members are named by their sha256. Each
member is hashed as it is read and refused on a mismatch; the store packs the
accepted ones as they come. If anything fails (a bad hash, the size limit, the
quota, a dropped connection) the blobs this request added are taken back, so a
failed upload leaves the store as it was. Content erased from the workspace
(GDPR) is refused before its bytes are stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tarfile
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from appliance.domain.canonical import is_sha256_hex, sha256_hex
from appliance.errors import (
    HashMismatch,
    ImportRejected,
    InvalidInput,
    PayloadTooLarge,
    QuotaExceeded,
)
from appliance.ports.blobstore import BlobPut
from appliance.services.context import ServiceContext
from appliance.services.staging import ERASED, forget_new_blobs
from appliance.services.workspaces import quota_of


@dataclass(frozen=True)
class UploadReport:
    received: int
    stored: int
    bytes: int

    def as_dict(self) -> dict[str, int]:
        return {"received": self.received, "stored": self.stored, "bytes": self.bytes}


class Budget:
    """Counts bytes against the request limit and what is left of the quota."""

    def __init__(self, ws: str, limit: int, remaining: int | None) -> None:
        self.ws, self.limit, self.remaining = ws, limit, remaining
        self.wire = 0
        self.content = 0

    def on_wire(self, n: int) -> None:
        self.wire += n
        if self.wire > self.limit:
            raise PayloadTooLarge(self.wire, self.limit)

    def on_content(self, n: int) -> None:
        self.content += n
        if self.remaining is not None and self.content > self.remaining:
            raise QuotaExceeded(self.ws, self.content, self.remaining)


async def missing(ctx: ServiceContext, ws: str, digests: set[str]) -> set[str]:
    """Which of ``digests`` the workspace's store lacks: a client sends only those."""
    return await asyncio.to_thread(ctx.blobs.missing, ws, digests)


async def budget_for(ctx: ServiceContext, ws: str, declared: int | None) -> Budget:
    """Refuses at once when the declared length cannot fit."""
    async with ctx.catalog.accounts() as acc:
        workspace = await acc.workspaces.get(ws)
    quota = quota_of(ctx, workspace)
    remaining = None
    if quota is not None:
        async with ctx.catalog.reading(ws) as uow:
            referenced = await uow.files.stored_bytes()
        # What the store holds counts too: blobs uploaded but not staged (yet), and
        # garbage awaiting GC, so a client cannot slip past the quota by never staging.
        held = (await asyncio.to_thread(ctx.blobs.stats, ws)).bytes
        remaining = max(0, quota - max(referenced, held))
    limit = ctx.settings.max_request_bytes
    if declared is not None and declared > limit:
        raise PayloadTooLarge(declared, limit)
    return Budget(ws, limit, remaining)


BLOCK = tarfile.BLOCKSIZE
_END = bytes(BLOCK)
_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE)
_TAR_HINT = "send an uncompressed ustar stream of regular files named by their sha256"


class _TarIntake:
    """Reads the upload's tar members straight off the body: a header, the bytes,
    the padding. (tarfile's stream mode copies every byte through two more
    buffers; members here are plain files with short names, so nothing of it is
    needed.)"""

    def __init__(
        self, stream: BinaryIO, budget: Budget, erased: Collection[str] = frozenset()
    ) -> None:
        self.stream, self.budget, self.erased = stream, budget, erased
        self.queued: set[str] = set()
        self.received = 0

    def blobs(self) -> Iterator[BlobPut]:
        while True:
            header = self._read(BLOCK, "a member header")
            if header == _END:
                return  # the end blocks; anything after them is ignored, as tar does
            try:
                member = tarfile.TarInfo.frombuf(header, "utf-8", "surrogateescape")
            except tarfile.HeaderError as exc:
                raise InvalidInput(
                    f"the upload is not a readable tar stream: {exc}", hint=_TAR_HINT
                ) from None
            yield self._member(member)

    def _read(self, size: int, what: str) -> bytes:
        data = self.stream.read(size)
        if len(data) != size:
            raise InvalidInput(f"the tar stream ended in the middle of {what}", hint=_TAR_HINT)
        return data

    def _member(self, member: tarfile.TarInfo) -> BlobPut:
        name = member.name
        if member.type not in _REGULAR or not is_sha256_hex(name):
            raise InvalidInput(
                f"tar member {name!r} is not a regular file named by its sha256",
                hint="name each member by the lower-case hex sha256 of its bytes",
            )
        if name in self.erased:
            raise ImportRejected([(name, ERASED)])
        self.budget.on_content(member.size)
        data = self._read(member.size, f"member {name}")
        if pad := -member.size % BLOCK:
            self._read(pad, f"the padding of member {name}")
        actual = sha256_hex(data)
        if actual != name:
            raise HashMismatch(name, actual)
        self.received += 1
        self.queued.add(name)
        return BlobPut(name, len(data), data=data)


async def receive_tar(
    ctx: ServiceContext, ws: str, stream: BinaryIO, budget: Budget
) -> UploadReport:
    """``stream`` is read on the uploads' own pool (it may block on the network)."""
    async with ctx.catalog.reading(ws) as uow:
        erased = await uow.storage.erased()
    intake = _TarIntake(stream, budget, erased)
    try:
        stored = await ctx.shield.run_upload(ctx.settings, ctx.blobs.put_many, ws, intake.blobs())
    except BaseException:
        await forget_new_blobs(ctx, ws, intake.queued)
        raise
    return UploadReport(intake.received, stored, budget.content)


async def receive_one(
    ctx: ServiceContext, ws: str, sha256: str, stream: BinaryIO, budget: Budget
) -> UploadReport:
    """One (large) blob: spooled to a temporary file while hashed, then stored."""
    if not is_sha256_hex(sha256):
        raise InvalidInput(f"{sha256!r} is not a sha256", hint="use 64 lower-case hex digits")
    async with ctx.catalog.reading(ws) as uow:
        if await uow.files.erased({sha256}):
            raise ImportRejected([(sha256, ERASED)])
    tmp_dir = ctx.settings.data_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    try:
        size = await ctx.shield.run_upload(ctx.settings, _spool, stream, fd, sha256, budget)
        put = [BlobPut(sha256, size, path=tmp)]
        stored = await ctx.shield.run_upload(ctx.settings, ctx.blobs.put_many, ws, put)
    except BaseException:
        await forget_new_blobs(ctx, ws, {sha256})
        raise
    finally:
        os.unlink(tmp)
    return UploadReport(1, stored, size)


def _spool(stream: BinaryIO, fd: int, sha256: str, budget: Budget) -> int:
    h = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(1 << 20):
            budget.on_content(len(chunk))
            h.update(chunk)
            out.write(chunk)
            size += len(chunk)
    if h.hexdigest() != sha256:
        raise HashMismatch(sha256, h.hexdigest())
    return size
