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


#: Files hashed per pool task: one task per small file costs more in futures and
#: thread hand-offs than the hashing itself (measured: 1.0 CPU-s vs 0.37 for 10k
#: files of 50 KB); batches keep the pool busy at a fraction of that.
BATCH_FILES = 64
BATCH_BYTES = 4 << 20


def _hash_batch(batch: list[SourceFile]) -> list[Hashed]:
    return [hash_file(f) for f in batch]


def hash_files(
    files: Iterable[SourceFile], known: dict[str, str], workers: int, window: int = 256
) -> Iterator[Hashed]:
    """Hashed files in input order; ``known`` (path → sha256) skips reading.
    ``window`` bounds the files in flight (so the bytes held in memory)."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hash") as pool:
        pending: deque[tuple[int, Future[list[Hashed]] | list[Hashed]]] = deque()
        in_flight = 0
        batch: list[SourceFile] = []
        held = 0

        def flush() -> None:
            nonlocal batch, held, in_flight
            if batch:
                pending.append((len(batch), pool.submit(_hash_batch, batch)))
                in_flight += len(batch)
                batch, held = [], 0

        for f in files:
            sha = known.get(f.path)
            if sha:
                flush()
                pending.append((1, [Hashed(f, sha, None)]))
                in_flight += 1
            else:
                batch.append(f)
                held += f.size
                if len(batch) >= BATCH_FILES or held >= BATCH_BYTES:
                    flush()
            while in_flight >= window and pending:
                count, item = pending.popleft()
                in_flight -= count
                yield from _results(item)
        flush()
        while pending:
            yield from _results(pending.popleft()[1])


def _results(item: Future[list[Hashed]] | list[Hashed]) -> list[Hashed]:
    return item if isinstance(item, list) else item.result()
