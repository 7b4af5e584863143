"""Upload a local folder into a dataset's working area, sending only new content.

Scan (a bad tree is refused before anything is sent), hash on a thread pool, ask
the appliance which digests it lacks, send those as tar streams (large files one
by one), then stage every name in one call. A crash or Ctrl-C at any point leaves
at most whole blobs nothing references yet; running the upload again reuses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.ingest.hashing import default_workers, hash_files
from appliance.ingest.scan import SourceFile, scan_tree
from appliance.ingest.statcache import StatCache
from appliance.progress import NoProgress, Progress
from appliance.sdk.errors import ApiError
from appliance.sdk.tarstream import BlobSource, SizedStream, blob_tar, file_chunks, tar_length
from appliance.sdk.types import UploadReport

if TYPE_CHECKING:
    from appliance.sdk.client import Client

LARGE_BLOB = 64 << 20  # bigger files go alone, as PUT /blobs/{sha256}
TAR_BATCH_BYTES = 256 << 20  # one POST /blobs carries about this much


def upload_tree(
    client: Client,
    ws: str | None,
    dataset: str,
    root: Path,
    *,
    prefix: str = "",
    exclude: Sequence[str] = (),
    mirror: bool = False,
    progress: Progress | None = None,
    workers: int = 0,
    stat_cache: Path | None = None,
) -> UploadReport:
    """Add ``root`` (a folder or one file) to the working area under ``prefix``.

    With ``mirror``, names under ``prefix`` that the tree no longer has are dropped
    from the working area too. ``stat_cache`` (an SQLite file) remembers digests by
    path and stat, so re-uploading a big tree re-reads only changed files.
    """
    progress = progress or NoProgress()
    client.get_dataset(ws, dataset)  # fail fast, before reading a byte
    files = scan_tree(root, prefix, tuple(exclude))
    cache = StatCache(stat_cache) if stat_cache is not None else None
    try:
        known = cache.lookup(files) if cache else {}
        digests = _hash_all(files, known, workers, progress)
        sources = _one_per_digest(files, digests)
        sent_blobs, sent_bytes = _send_missing(client, ws, sources, progress)
        rows = [{"name": f.name, "sha256": digests[f.name], "size": f.size} for f in files]
        mirror_prefix = prefix.strip("/") if mirror else None
        try:
            staged = client.stage_files(ws, dataset, rows, mirror_prefix)
        except ApiError as exc:
            if not _lost_blobs(exc):
                raise
            # a GC reclaimed a blob we found present, between asking and staging
            more_blobs, more_bytes = _send_missing(client, ws, sources, progress)
            sent_blobs, sent_bytes = sent_blobs + more_blobs, sent_bytes + more_bytes
            staged = client.stage_files(ws, dataset, rows, mirror_prefix)
        if cache:
            cache.remember((f, digests[f.name]) for f in files if f.path not in known)
    finally:
        if cache:
            cache.close()
    return UploadReport(
        dataset, len(files), sum(f.size for f in files), sent_blobs, sent_bytes, dict(staged)
    )


def _hash_all(
    files: list[SourceFile], known: dict[str, str], workers: int, progress: Progress
) -> dict[str, str]:
    """name → sha256; the bytes read for hashing are dropped straight away."""
    progress.start("hash", sum(f.size for f in files if f.path not in known), unit="bytes")
    digests: dict[str, str] = {}
    for h in hash_files(files, known, default_workers(workers)):
        digests[h.source.name] = h.sha256
        if h.source.path not in known:
            progress.advance(h.source.size)
    progress.finish()
    return digests


def _one_per_digest(files: list[SourceFile], digests: dict[str, str]) -> dict[str, BlobSource]:
    out: dict[str, BlobSource] = {}
    for f in files:
        sha = digests[f.name]
        if sha not in out:
            out[sha] = BlobSource(sha, f.size, f.path, f.name)
    return out


def _send_missing(
    client: Client, ws: str | None, sources: dict[str, BlobSource], progress: Progress
) -> tuple[int, int]:
    missing = client.missing_blobs(ws, sources)
    todo = [sources[sha] for sha in sorted(missing)]
    total = sum(b.size for b in todo)
    progress.start("upload", total, unit="bytes")
    try:
        for batch in tar_batches(b for b in todo if b.size <= LARGE_BLOB):
            _post_tar(client, ws, batch, progress)
        for big in (b for b in todo if b.size > LARGE_BLOB):
            _put_one(client, ws, big, progress)
    finally:
        progress.finish()
    return len(todo), total


def tar_batches(
    blobs: Iterable[BlobSource], cap: int = TAR_BATCH_BYTES
) -> Iterable[list[BlobSource]]:
    """Consecutive groups of at most ``cap`` bytes of content (at least one blob each)."""
    batch: list[BlobSource] = []
    size = 0
    for b in blobs:
        if batch and size + b.size > cap:
            yield batch
            batch, size = [], 0
        batch.append(b)
        size += b.size
    if batch:
        yield batch


def _post_tar(client: Client, ws: str | None, batch: list[BlobSource], progress: Progress) -> None:
    stream = SizedStream(blob_tar(batch, progress.advance), tar_length(batch))
    _send(stream, lambda: client.upload_blob_tar(ws, stream))


def _put_one(client: Client, ws: str | None, blob: BlobSource, progress: Progress) -> None:
    def chunks() -> Iterable[bytes]:
        for chunk in file_chunks(blob):
            yield chunk
            progress.advance(len(chunk))

    stream = SizedStream(iter(chunks()), blob.size)
    _send(stream, lambda: client.put_blob(ws, blob.sha256, stream))


def _send(stream: SizedStream, call: Callable[[], object]) -> None:
    try:
        call()
    except Exception:
        # what the body generator raised (a changed file) beats how requests saw it
        if stream.error is not None:
            raise stream.error from None
        raise


def _lost_blobs(exc: ApiError) -> bool:
    """Staging was refused because blobs found present earlier are gone now."""
    if exc.code == "blob-missing":
        return True
    problems = exc.problem.get("problems") if exc.code == "import-rejected" else None
    if not isinstance(problems, list) or not problems:
        return False
    return all(
        "was not uploaded" in str(p.get("problem", "")) for p in problems if isinstance(p, dict)
    )
