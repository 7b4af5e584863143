"""BlobStore on a local directory: one loose file per blob.

Layout: ``root/<workspace>/<sha[:2]>/<sha[2:]>``. A blob is written to a hidden
temporary file in its final directory and renamed into place, so a reader (or a
process killed half way) never sees part of a blob: rename is atomic on POSIX.

Durability: by default no file is fsynced. The crash this store is built for is a
killed process (OOM, ``kill -9``, a cancelled job); the page cache survives that,
and an fsync per 50 KB file would cost more than the write itself (see
docs/blobstore.md for the figures). A power loss can lose the most recent blobs;
the catalog then reports them via ``missing`` and an import re-puts them.
``durable=True`` fsyncs each file before its rename and each touched directory
once per ``put_many`` for boxes where that trade is wrong.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import os
import time
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

from appliance.adapters.blobs.keys import check_digest, check_digests, check_workspace, verify
from appliance.errors import (
    BlobCorrupt,
    BlobMissing,
    BlobStoreUnavailable,
    InvalidInput,
    StorageFull,
)
from appliance.ports.blobstore import BlobInfo, BlobPut, BlobStats

_COPY_CHUNK = 1 << 20
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_TMP_SUFFIX = ".tmp"


class LocalBlobStore:
    """Content-addressed blobs as loose files under ``root``."""

    name = "local"

    def __init__(self, root: Path, *, durable: bool = False) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.durable = durable
        self._seq = itertools.count()

    # -- paths -----------------------------------------------------------------

    def _path(self, workspace: str, sha256: str) -> str:
        # str paths, not Path objects: this runs 10,000s of times per import.
        return f"{self.root}/{workspace}/{sha256[:2]}/{sha256[2:]}"

    def _fail(self, exc: OSError) -> Exception:
        if exc.errno in _FULL_ERRNOS:
            return StorageFull(str(self.root))
        return BlobStoreUnavailable(str(self.root), exc.strerror or str(exc))

    # -- port ------------------------------------------------------------------

    def ping(self) -> None:
        if not self.root.is_dir():
            raise BlobStoreUnavailable(str(self.root), "the directory does not exist")
        if not os.access(self.root, os.R_OK | os.W_OK | os.X_OK):
            raise BlobStoreUnavailable(str(self.root), "the directory is not writable")

    def missing(self, workspace: str, digests: Collection[str]) -> set[str]:
        check_workspace(workspace)
        exists = os.path.exists
        return {d for d in check_digests(digests) if not exists(self._path(workspace, d))}

    def put_many(self, workspace: str, blobs: Iterable[BlobPut]) -> int:
        check_workspace(workspace)
        exists = os.path.exists
        stored = 0
        touched: set[str] = set()
        for blob in blobs:
            final = self._path(workspace, check_digest(blob.sha256))
            if exists(final):
                continue
            made_dirs = self._put_one(final, blob)
            stored += 1
            if self.durable:
                fan = os.path.dirname(final)
                touched.add(fan)
                if made_dirs:  # a new directory is durable once its parent is synced
                    touched.update((os.path.dirname(fan), str(self.root)))
        for directory in touched:
            self._fsync_dir(directory)
        return stored

    def read(self, workspace: str, sha256: str) -> bytes:
        check_workspace(workspace)
        try:
            with open(self._path(workspace, check_digest(sha256)), "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise BlobMissing(workspace, sha256) from None
        except OSError as exc:
            raise self._fail(exc) from exc
        verify(sha256, data)
        return data

    def read_many(self, workspace: str, digests: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        check_workspace(workspace)
        for sha in check_digests(digests):
            yield sha, self.read(workspace, sha)

    def stream(self, workspace: str, sha256: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        check_workspace(workspace)
        try:
            fh = open(self._path(workspace, check_digest(sha256)), "rb")  # noqa: SIM115
        except FileNotFoundError:
            raise BlobMissing(workspace, sha256) from None
        except OSError as exc:
            raise self._fail(exc) from exc
        hasher = hashlib.sha256()
        with fh:
            while chunk := fh.read(chunk_size):
                hasher.update(chunk)
                yield chunk
        if hasher.hexdigest() != sha256:
            raise BlobCorrupt(sha256, hasher.hexdigest())

    def delete_many(self, workspace: str, digests: Iterable[str]) -> int:
        check_workspace(workspace)
        reclaimed = 0
        for sha in check_digests(digests):
            path = self._path(workspace, sha)
            try:
                size = os.stat(path).st_size
                os.unlink(path)
            except FileNotFoundError:
                continue
            reclaimed += size
        return reclaimed

    def list_blobs(self, workspace: str) -> Iterator[BlobInfo]:
        check_workspace(workspace)
        base = self.root / workspace
        if not base.is_dir():
            return
        for fan in sorted(os.scandir(base), key=lambda e: e.name):
            if len(fan.name) != 2 or not fan.is_dir():
                continue
            for entry in os.scandir(fan.path):
                if entry.name.startswith(".") or len(entry.name) != 62:
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:  # deleted while we listed
                    continue
                yield BlobInfo(fan.name + entry.name, st.st_size, st.st_mtime)

    def stats(self, workspace: str) -> BlobStats:
        count = size = 0
        for info in self.list_blobs(workspace):
            count += 1
            size += info.size
        return BlobStats(count, size)

    def close(self) -> None:
        """Nothing to release: every file is closed when its call returns."""

    # -- maintenance -----------------------------------------------------------

    def sweep_partial(self, older_than_seconds: float = 3600.0) -> int:
        """Remove temporary files left by killed writers; return how many.

        Only old ones: a young temp file may belong to a put in progress.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.root.glob(f"*/??/.*{_TMP_SUFFIX}"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    # -- writing ---------------------------------------------------------------

    def _put_one(self, final: str, blob: BlobPut) -> bool:
        """Write one blob aside and rename it into place; True if directories
        had to be created for it."""
        directory, name = os.path.split(final)
        tmp = f"{directory}/.{name}.{os.getpid()}-{next(self._seq)}{_TMP_SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        made_dirs = False
        try:
            try:
                fd = os.open(tmp, flags, 0o644)
            except FileNotFoundError:  # first blob in this fan-out directory
                os.makedirs(directory, exist_ok=True)
                made_dirs = True
                fd = os.open(tmp, flags, 0o644)
        except OSError as exc:
            raise self._fail(exc) from exc
        try:
            try:
                if blob.data is not None:
                    _write_all(fd, blob.data)
                elif blob.path is not None:
                    _copy_verified(fd, blob.path, blob.sha256)
                else:
                    raise InvalidInput(f"BlobPut {blob.sha256} has neither data nor path")
                if self.durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
        except BaseException as exc:
            _unlink_quietly(tmp)
            if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
                raise self._fail(exc) from exc
            raise
        return made_dirs

    def _fsync_dir(self, directory: str) -> None:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_verified(fd: int, source: str, sha256: str) -> None:
    """Copy ``source`` into ``fd`` hashing the same bytes; a mismatch means the
    file changed since the caller hashed it, and nothing may be stored."""
    hasher = hashlib.sha256()
    with open(source, "rb") as src:
        while chunk := src.read(_COPY_CHUNK):
            hasher.update(chunk)
            _write_all(fd, chunk)
    if hasher.hexdigest() != sha256:
        raise BlobCorrupt(sha256, hasher.hexdigest())


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
