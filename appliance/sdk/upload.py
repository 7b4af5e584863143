"""Upload a local folder into a dataset's working area, sending only new content.

Scan (a bad tree is refused before anything is sent), hash on a thread pool, ask
the appliance which digests it lacks, send those as tar streams (large files one
by one), then stage every name in one call. A crash or Ctrl-C at any point leaves
at most whole blobs nothing references yet; running the upload again reuses them.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.domain.pulled import MANIFEST
from appliance.errors import InvalidInput
from appliance.ingest.hashing import default_workers, hash_files
from appliance.ingest.scan import SourceFile, scan_tree
from appliance.ingest.statcache import StatCache
from appliance.progress import NoProgress, Progress
from appliance.sdk.errors import ApiError
from appliance.sdk.pulled import read_pulled
from appliance.sdk.tarstream import BlobSource, SizedStream, blob_tar, file_chunks, tar_length
from appliance.sdk.types import StageResult, UploadReport

if TYPE_CHECKING:
    from appliance.sdk.client import Client

LARGE_BLOB = 64 << 20  # bigger files go alone, as PUT /blobs/{sha256}
TAR_BATCH_BYTES = 256 << 20  # one POST /blobs carries about this much
PIPE_BATCH_BYTES = 32 << 20  # kept bytes a batch may hold before it is sent
PIPE_BATCH_FILES = 2000


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
    labels: bool = False,
) -> UploadReport:
    """Add ``root`` (a folder or one file) to the working area under ``prefix``.

    With ``mirror``, names under ``prefix`` that the tree no longer has are dropped
    from the working area too. ``stat_cache`` (an SQLite file) remembers digests by
    path and stat, so re-uploading a big tree re-reads only changed files.
    A folder ``pull`` wrote: its ``.ahoy/`` is the pull's, not data, and is never
    imported as files; with ``labels``, each file gets the label document the pull
    wrote for it (``appliance.sdk.pulled``). The report's ``pulled`` says so.
    """
    progress = progress or NoProgress()
    ds = client.get_dataset(ws, dataset)  # fail fast, before reading a byte
    pulled = read_pulled(root)
    if labels and pulled is None:
        raise InvalidInput(
            f"{root} is not a folder `ahoy dataset pull` wrote (it has no {MANIFEST})",
            hint="--labels reads the label documents a pull writes; for a YOLO or COCO"
            " folder use `ahoy dataset import-yolo` or `import-coco`",
        )
    files = scan_tree(root, prefix, tuple(exclude))
    if pulled is not None:
        files = pulled.data(files, prefix)
    docs = pulled.label_documents(files, prefix) if pulled and labels else {}
    cache = StatCache(stat_cache) if stat_cache is not None else None
    try:
        known = cache.lookup(files) if cache else {}
        digests, sources, sent_blobs, sent_bytes = _hash_and_send(
            client, ws, files, known, workers, progress
        )
        label_sha, label_sources = _label_blobs(docs)
        if label_sources:
            more_blobs, more_bytes = _send_missing(client, ws, label_sources, NoProgress())
            sent_blobs, sent_bytes = sent_blobs + more_blobs, sent_bytes + more_bytes
            sources = sources | label_sources
        rows = [_row(f, digests[f.name], docs.get(f.name), label_sha) for f in files]
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
        dataset,
        len(files),
        sum(f.size for f in files),
        sent_blobs,
        sent_bytes,
        dict(staged),
        pulled=pulled.report(files, prefix, digests, len(docs), ds.get("split"))
        if pulled
        else None,
    )


def _label_blobs(docs: dict[str, bytes]) -> tuple[dict[str, str], dict[str, BlobSource]]:
    """Label documents (file name → bytes) as blobs: name → sha256, sha256 → source."""
    label_sha = {name: hashlib.sha256(doc).hexdigest() for name, doc in docs.items()}
    sources = {
        label_sha[name]: BlobSource(label_sha[name], len(doc), "", "label document", doc)
        for name, doc in docs.items()
    }
    return label_sha, sources


def _row(
    f: SourceFile, sha256: str, doc: bytes | None, label_sha: dict[str, str]
) -> dict[str, Any]:
    row: dict[str, Any] = {"name": f.name, "sha256": sha256, "size": f.size}
    if doc is not None:
        row |= {"label_sha256": label_sha[f.name], "label_size": len(doc)}
    return row


class _Sender:
    """Sends batches on ``SENDERS`` connections while the caller hashes the next
    ones, so the client's hashing, the transfer, and the appliance's checking and
    storing all overlap."""

    def __init__(self, client: Client, ws: str | None, senders: int = 2) -> None:
        self.client, self.ws = client, ws
        self.batches: queue.Queue[dict[str, BlobSource] | None] = queue.Queue(maxsize=senders)
        self.error: BaseException | None = None
        self.blobs = self.bytes = 0
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, name=f"ahoy-upload-{i}", daemon=True)
            for i in range(senders)
        ]
        for t in self.threads:
            t.start()

    def _run(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.error is not None:
                continue  # drain, so the producer never blocks on a dead sender
            try:
                blobs, size = _send_missing(self.client, self.ws, batch, NoProgress())
            except BaseException as exc:
                self.error = exc
                continue
            with self.lock:
                self.blobs += blobs
                self.bytes += size

    def send(self, batch: dict[str, BlobSource]) -> None:
        if self.error is not None:
            raise self.error
        self.batches.put(batch)

    def finish(self) -> None:
        for _ in self.threads:
            self.batches.put(None)
        for t in self.threads:
            t.join()
        if self.error is not None:
            raise self.error


def _hash_and_send(
    client: Client,
    ws: str | None,
    files: list[SourceFile],
    known: dict[str, str],
    workers: int,
    progress: Progress,
) -> tuple[dict[str, str], dict[str, BlobSource], int, int]:
    """Hash on a thread pool and hand each batch of new digests to the sender.

    Small files keep the bytes they were hashed from until their batch is sent,
    so they are read once; a batch holds at most ``PIPE_BATCH_BYTES`` of them."""
    progress.start("upload", sum(f.size for f in files), unit="bytes")
    sender = _Sender(client, ws)
    digests: dict[str, str] = {}
    sources: dict[str, BlobSource] = {}
    batch: dict[str, BlobSource] = {}
    held = 0
    try:
        for h in hash_files(files, known, default_workers(workers)):
            f = h.source
            digests[f.name] = h.sha256
            progress.advance(f.size)
            if h.sha256 in sources:
                continue
            src = BlobSource(h.sha256, f.size, f.path, f.name, h.data)
            sources[h.sha256] = BlobSource(h.sha256, f.size, f.path, f.name)
            batch[h.sha256] = src
            held += f.size if h.data is not None else 0
            if held >= PIPE_BATCH_BYTES or len(batch) >= PIPE_BATCH_FILES:
                sender.send(batch)
                batch, held = {}, 0
        if batch:
            sender.send(batch)
    finally:
        sender.finish()
        progress.finish()
    return digests, sources, sender.blobs, sender.bytes


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
    return exc.code in ("blobs-not-uploaded", "blob-missing")


@dataclass(frozen=True)
class LabelledUpload:
    staged: StageResult
    images_sent: int
    image_bytes_sent: int
    labels_sent: int
    digests: dict[str, str]  # image name → content sha256


def upload_labelled(
    client: Client,
    ws: str | None,
    dataset: str,
    images: list[SourceFile],
    labels: dict[str, bytes],
    progress: Progress,
) -> LabelledUpload:
    """Images through the dedup upload, then the label documents (image name →
    canonical bytes) the appliance lacks, then one staging call naming both.
    What YOLO, COCO and video imports share once they have parsed their input."""
    digests, _, sent, sent_bytes = _hash_and_send(client, ws, images, {}, 0, progress)
    label_sha, sources = _label_blobs(labels)
    lacking = sorted(client.missing_blobs(ws, sources))
    if lacking:
        batch = [sources[sha] for sha in lacking]
        client.upload_blob_tar(ws, b"".join(blob_tar(batch, lambda n: None)))
    rows = [_row(img, digests[img.name], labels.get(img.name), label_sha) for img in images]
    staged = client.stage_files(ws, dataset, rows)
    return LabelledUpload(staged, sent, sent_bytes, len(lacking), digests)
