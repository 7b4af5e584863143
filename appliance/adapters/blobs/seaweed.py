"""BlobStore on SeaweedFS: small blobs packed, large blobs loose, SQLite index.

One HTTP PUT per small file tops out near 500-750 files/s here (900-1,400/s
with 8 threads; docs/blobstore.md), so small blobs are appended to an in-memory
pack and each ~16 MiB pack is stored in one PUT, on a background thread while
the next one fills. With the master's URL, packs go straight to a volume server
(``/dir/assign``, then PUT to the fid), which costs weed half the CPU of the
filer path; without it, to the filer. Blobs of ``loose_bytes`` and more are
streamed to the filer as objects of their own (``seaweed_objects.py``).

Visibility is the index (``pack_index.py``): an object is written under a fresh
unique name first, then its rows are inserted in one transaction. Filer objects
live under ``<root>/<workspace>/packs/`` and ``<root>/<workspace>/loose/``.
Packs are self-describing (``packs.py``). Compaction, sweeping and rebuilding
live in ``seaweed_upkeep.py``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from appliance.adapters.blobs import seaweed_upkeep
from appliance.adapters.blobs.keys import check_digest, check_digests, check_workspace, verify
from appliance.adapters.blobs.pack_index import PackIndex
from appliance.adapters.blobs.packs import PackBuilder, PackEntry
from appliance.adapters.blobs.seaweed_objects import SeaweedObjects
from appliance.adapters.blobs.spans import Span, coalesce
from appliance.adapters.seaweed.credentials import WeedCredentials
from appliance.adapters.seaweed.filer import FilerClient
from appliance.adapters.seaweed.volume import VolumeClient, is_fid
from appliance.errors import BlobCorrupt, BlobMissing, BlobStoreError, InvalidInput
from appliance.ports.blobstore import BlobInfo, BlobPut, BlobStats

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

MiB = 1 << 20
_BATCH_ITEMS = 512  # blobs looked up in the index per query while ingesting
_BATCH_BYTES = 64 * MiB  # ...and at most this much caller data held at once
_LIST_PAGE = 5000
_ROOT = re.compile(r"(/[A-Za-z0-9_.-]+)+")


class SeaweedBlobStore:
    """Content-addressed blobs in SeaweedFS, indexed in a local SQLite file.

    ``master_url``: packs go straight to volume servers (the fast path); None
    keeps them on the filer. Packs already stored either way stay readable.
    ``credentials``: the keys weed requires (``WeedServer.credentials``).
    """

    name = "seaweedfs"

    def __init__(
        self,
        filer_url: str,
        index_path: Path,
        *,
        master_url: str | None = None,
        credentials: WeedCredentials | None = None,
        root: str = "/ahoy/blobs",
        pack_bytes: int = 16 * MiB,
        loose_bytes: int = 8 * MiB,
        upload_workers: int = 2,
        read_workers: int = 4,
        fsync: bool = True,
        auto_compact: bool = True,
        min_live_ratio: float = 0.5,
    ) -> None:
        if not _ROOT.fullmatch(root):
            raise InvalidInput(f"filer root {root!r} is not allowed", hint="use e.g. /ahoy/blobs")
        self.filer_url = filer_url
        self.master_url = master_url
        self.root = root
        self.pack_bytes = pack_bytes
        self.loose_bytes = loose_bytes
        self.upload_workers = max(1, upload_workers)
        self.read_workers = max(1, read_workers)
        self.auto_compact = auto_compact
        self.min_live_ratio = min_live_ratio
        pool_size = self.upload_workers + self.read_workers + 2
        self._filer = FilerClient(
            filer_url, pool_size=pool_size, fsync=fsync, credentials=credentials
        )
        self._volumes = (
            VolumeClient(master_url, pool_size=pool_size, fsync=fsync, credentials=credentials)
            if master_url
            else None
        )
        self._index = PackIndex(index_path)
        self._objects = SeaweedObjects(self._filer, self._volumes, self._index, root)
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            workers = max(self.upload_workers, self.read_workers)
            self._executor = ThreadPoolExecutor(workers, thread_name_prefix="seaweed-blobs")
        return self._executor

    # -- port: reads -------------------------------------------------------------

    def ping(self) -> None:
        self._filer.ping()
        if self._volumes is not None:
            self._volumes.ping()
        self._index.ping()

    def missing(self, workspace: str, digests: Collection[str]) -> set[str]:
        wanted = check_digests(digests)
        return set(wanted) - self._index.present(check_workspace(workspace), wanted)

    def read(self, workspace: str, sha256: str) -> bytes:
        ws, sha = check_workspace(workspace), check_digest(sha256)
        # Second try: compaction may have moved the blob between lookup and GET.
        for _ in range(2):
            loc = self._index.locate(ws, [sha]).get(sha)
            if loc is None:
                break
            data = self._objects.get(loc.locator, loc.offset, loc.size)
            if data is not None:
                verify(sha, data)
                return data
        raise BlobMissing(ws, sha)

    def read_many(self, workspace: str, digests: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        ws = check_workspace(workspace)
        wanted = check_digests(digests)
        where = self._index.locate(ws, wanted)
        for sha in wanted:
            if sha not in where:
                raise BlobMissing(ws, sha)
        spans = coalesce(ws, where)
        for verified in _ordered_map(self._pool(), self._fetch, spans, self.read_workers * 2):
            yield from verified

    def _fetch(self, span: Span) -> list[tuple[str, bytes]]:
        """One GET for a run of neighbouring blobs; verified here, on a worker
        thread, because hashlib releases the GIL and so hashes on every core."""
        data = self._objects.get(span.locator, span.start, span.end - span.start)
        if data is None:  # moved by a compaction since we looked it up
            return [(sha, self.read(span.workspace, sha)) for sha, _, _ in span.entries]
        out = []
        for sha, off, size in span.entries:
            blob = data[off - span.start : off - span.start + size]
            verify(sha, blob)
            out.append((sha, blob))
        return out

    def stream(self, workspace: str, sha256: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        ws, sha = check_workspace(workspace), check_digest(sha256)
        chunks: Iterator[bytes] | None = None
        for _ in range(2):
            loc = self._index.locate(ws, [sha]).get(sha)
            if loc is None:
                break
            chunks = self._objects.stream(loc.locator, loc.offset, loc.size, chunk_size)
            if chunks is not None:
                break
        if chunks is None:
            raise BlobMissing(ws, sha)
        hasher = hashlib.sha256()
        for chunk in chunks:
            hasher.update(chunk)
            yield chunk
        if hasher.hexdigest() != sha:
            raise BlobCorrupt(sha, hasher.hexdigest())

    def list_blobs(self, workspace: str) -> Iterator[BlobInfo]:
        ws = check_workspace(workspace)
        after = ""
        while page := self._index.list_page(ws, after, _LIST_PAGE):
            yield from page
            after = page[-1].sha256

    def stats(self, workspace: str) -> BlobStats:
        return BlobStats(*self._index.stats(check_workspace(workspace)))

    # -- port: writes ------------------------------------------------------------

    def put_many(self, workspace: str, blobs: Iterable[BlobPut]) -> int:
        ws = check_workspace(workspace)
        uploads = _Uploads(self._pool(), self.upload_workers)
        builder = PackBuilder(ws)
        seen: set[str] = set()
        try:
            for batch in _batches(blobs):
                fresh = {check_digest(b.sha256) for b in batch} - seen
                fresh -= self._index.present(ws, sorted(fresh))
                for blob in batch:
                    if blob.sha256 not in fresh or blob.sha256 in seen:
                        continue
                    seen.add(blob.sha256)
                    if self._is_large(blob):
                        uploads.stored += self._put_loose(ws, blob)
                        continue
                    builder.add(blob.sha256, _small_bytes(blob))
                    if builder.size >= self.pack_bytes:
                        uploads.submit(self._put_pack, ws, *builder.seal())
            if len(builder):
                uploads.submit(self._put_pack, ws, *builder.seal())
            uploads.drain()
        except Exception:
            # What was gathered before the failure is whole: store it, then report.
            if len(builder):
                uploads.submit_quietly(self._put_pack, ws, *builder.seal())
            uploads.abandon()
            raise
        except BaseException:
            uploads.abandon()
            raise
        return uploads.stored

    def _is_large(self, blob: BlobPut) -> bool:
        if blob.data is not None:
            return len(blob.data) >= self.loose_bytes
        if blob.path is None:
            raise InvalidInput(f"BlobPut {blob.sha256} has neither data nor path")
        # The file's real size, not the declared one: it decides what we hold in memory.
        return os.stat(blob.path).st_size >= self.loose_bytes

    def _put_pack(
        self, workspace: str, body: bytearray, entries: list[PackEntry], created: float
    ) -> int:
        locator = self._objects.write_pack(workspace, body)
        rows = [(e.sha256, e.offset, e.size) for e in entries]
        try:
            return self._index.commit_object(
                workspace, locator, "pack", len(body), rows, created, pending=is_fid(locator)
            )
        except BaseException:
            self._objects.abandon(locator)
            raise

    def _put_loose(self, workspace: str, blob: BlobPut) -> int:
        path = self._objects.new_loose_path(workspace, blob.sha256)
        if blob.data is not None:
            self._filer.put(path, blob.data)
            size = len(blob.data)
        else:
            hasher = hashlib.sha256()
            counted = [0]
            self._filer.put(path, _hashing_chunks(str(blob.path), hasher, counted))
            size = counted[0]
            if hasher.hexdigest() != blob.sha256:
                self._objects.discard([path])
                raise BlobCorrupt(blob.sha256, hasher.hexdigest())
        entry = [(blob.sha256, 0, size)]
        try:
            return self._index.commit_object(workspace, path, "loose", size, entry, time.time())
        except BaseException:
            self._objects.discard([path])
            raise

    def delete_many(self, workspace: str, digests: Iterable[str]) -> int:
        """Drop the blobs from the index; return the bytes of the blobs removed.

        Emptied objects are deleted at once; packs left mostly dead are rewritten
        by ``compact`` (automatically when ``auto_compact``), which is when their
        bytes actually return to the disk.
        """
        ws = check_workspace(workspace)
        removed, emptied, touched = self._index.delete(ws, check_digests(digests))
        self._objects.discard(emptied)
        if self.auto_compact and touched:
            try:
                self.compact(self.min_live_ratio, workspace=ws, only=touched)
            except BlobStoreError as exc:  # the delete itself is done; retry later
                log.warning("compaction after delete failed: %s", exc)
        return removed

    # -- maintenance -------------------------------------------------------------

    def compact(
        self,
        min_live_ratio: float = 0.5,
        *,
        workspace: str | None = None,
        only: Collection[int] | None = None,
    ) -> int:
        """Rewrite packs whose live share fell below ``min_live_ratio``; return
        the bytes the filer got back."""
        if workspace is not None:
            check_workspace(workspace)
        return seaweed_upkeep.compact(self, min_live_ratio, workspace, only)

    def sweep_unindexed(self, older_than_seconds: float = 3600.0) -> int:
        """Delete objects no index row points at (left by killed writers): filer
        objects not in the index, and volume packs still in the pending journal.
        Return how many were deleted. Young ones are spared: they may be a put
        about to commit."""
        return seaweed_upkeep.sweep_unindexed(self, older_than_seconds)

    def rebuild_index(self) -> int:
        """Index every pack and loose object found on the filer that the index
        lacks; return how many blobs were added. Packs on volume servers cannot
        be listed, so they are not covered (docs/blobstore.md)."""
        return seaweed_upkeep.rebuild_index(self)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._filer.close()
        if self._volumes is not None:
            self._volumes.close()
        self._index.close()


# -- helpers ---------------------------------------------------------------------


def _ordered_map(
    pool: ThreadPoolExecutor, fn: Callable[[T], R], items: Iterable[T], window: int
) -> Iterator[R]:
    """``map`` on the pool with at most ``window`` results in memory at once."""
    pending: deque[Future[R]] = deque()
    for item in items:
        if len(pending) >= window:
            yield pending.popleft().result()
        pending.append(pool.submit(fn, item))
    while pending:
        yield pending.popleft().result()


class _Uploads:
    """Pack uploads in flight: at most ``limit`` while the caller fills the next
    pack, so memory stays bounded and the network never waits for the builder."""

    def __init__(self, pool: ThreadPoolExecutor, limit: int) -> None:
        self.pool = pool
        self.limit = limit
        self.pending: deque[Future[int]] = deque()
        self.stored = 0

    def submit(self, fn: Callable[..., int], *args: object) -> None:
        while len(self.pending) >= self.limit:
            self.stored += self.pending.popleft().result()
        self.pending.append(self.pool.submit(fn, *args))

    def submit_quietly(self, fn: Callable[..., int], *args: object) -> None:
        try:
            self.submit(fn, *args)
        except Exception as exc:
            log.warning("could not store the blobs gathered before a failed put: %s", exc)

    def drain(self) -> None:
        while self.pending:
            self.stored += self.pending.popleft().result()

    def abandon(self) -> None:
        """Wait for uploads already running (each commits or not, whole) and
        drop their errors: the caller is already raising the first one."""
        while self.pending:
            try:
                self.stored += self.pending.popleft().result()
            except Exception as exc:
                log.warning("pack upload failed during an aborted put: %s", exc)


def _batches(blobs: Iterable[BlobPut]) -> Iterator[list[BlobPut]]:
    batch: list[BlobPut] = []
    held = 0
    for blob in blobs:
        batch.append(blob)
        held += len(blob.data) if blob.data is not None else 0
        if len(batch) >= _BATCH_ITEMS or held >= _BATCH_BYTES:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch


def _small_bytes(blob: BlobPut) -> bytes:
    if blob.data is not None:
        return blob.data  # the caller hashed exactly these bytes
    with open(str(blob.path), "rb") as fh:
        data = fh.read()
    verify(blob.sha256, data)  # the file changed since it was hashed: store nothing
    return data


def _hashing_chunks(path: str, hasher: hashlib._Hash, counted: list[int]) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(MiB):
            hasher.update(chunk)
            counted[0] += len(chunk)
            yield chunk
