"""Read and hash files on a small thread pool, in order, with bounded memory.

hashlib and file reads release the GIL, so threads use every core. Small files
are read once into memory and handed on with their bytes, so the blob store does
not read them again; large files are hashed by streaming and stored from their
path (the store re-hashes while copying them).
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from appliance.errors import ImportRejected
from appliance.ingest.scan import SourceFile

SMALL_FILE_BYTES = 4 << 20
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Hashed:
    source: SourceFile
    sha256: str
    data: bytes | None  # the bytes that were hashed, for small files read this time


def hash_file(f: SourceFile) -> Hashed:
    try:
        if f.size <= SMALL_FILE_BYTES:
            with open(f.path, "rb") as fh:
                data = fh.read()
            if len(data) != f.size:
                raise ImportRejected([(f.name, "the file changed while it was being imported")])
            return Hashed(f, hashlib.sha256(data).hexdigest(), data)
        h = hashlib.sha256()
        seen = 0
        with open(f.path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
                seen += len(chunk)
        if seen != f.size:
            raise ImportRejected([(f.name, "the file changed while it was being imported")])
        return Hashed(f, h.hexdigest(), None)
    except OSError as exc:
        raise ImportRejected([(f.name, f"cannot read: {exc.strerror or exc}")]) from exc


def default_workers(configured: int) -> int:
    return configured if configured > 0 else max(2, os.cpu_count() or 2)


def hash_files(
    files: Iterable[SourceFile], known: dict[str, str], workers: int, window: int = 256
) -> Iterator[Hashed]:
    """Hashed files in input order; ``known`` (path → sha256) skips reading."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hash") as pool:
        pending: deque[Future[Hashed] | Hashed] = deque()
        for f in files:
            sha = known.get(f.path)
            pending.append(Hashed(f, sha, None) if sha else pool.submit(hash_file, f))
            if len(pending) >= window:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())


def _result(item: Future[Hashed] | Hashed) -> Hashed:
    return item if isinstance(item, Hashed) else item.result()
