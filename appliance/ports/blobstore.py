"""BlobStore: content-addressed bytes, per workspace.

Every adapter (local disk, SeaweedFS, later S3) passes the one contract suite in
``tests/integration/blobstore_contract.py``.

Rules every adapter keeps:
- A blob is addressed by (workspace, sha256 hex). Nothing is ever overwritten:
  storing a digest that is already present is a no-op.
- A blob is never partially visible: it appears only once all its bytes are
  durable in the store (write aside, then commit/rename/index).
- Every read verifies the bytes against the digest and raises ``BlobCorrupt``
  on a mismatch; a digest that is not there raises ``BlobMissing``.
- A store that cannot be reached raises ``BlobStoreUnavailable``; a full disk
  raises ``StorageFull``. Neither leaves a partial blob behind.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BlobPut:
    """One blob to store: its digest and size, and its bytes from memory or a file.

    ``data``: the caller hashed exactly these bytes; the store may trust the digest.
    ``path``: the store reads the file and hashes while copying; if the file no
    longer matches ``sha256`` the put raises ``BlobCorrupt`` and stores nothing
    for that blob.
    """

    sha256: str
    size: int
    data: bytes | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class BlobInfo:
    sha256: str
    size: int
    stored_at: float  # unix seconds when the blob became visible


@dataclass(frozen=True, slots=True)
class BlobStats:
    count: int
    bytes: int


class BlobStore(Protocol):
    """Content-addressed blob storage, scoped by workspace."""

    #: short adapter name shown to users, e.g. "local" or "seaweedfs"
    name: str

    def ping(self) -> None:
        """Return if the store answers; raise ``BlobStoreUnavailable`` otherwise."""
        ...

    def missing(self, workspace: str, digests: Collection[str]) -> set[str]:
        """The subset of ``digests`` this workspace does not hold yet."""
        ...

    def put_many(self, workspace: str, blobs: Iterable[BlobPut]) -> int:
        """Store every blob not already present; return how many were newly stored.

        Blobs may be buffered and committed in groups, but when this returns every
        blob is visible and durable. On error, blobs already committed stay (they
        are whole); none is half-visible.
        """
        ...

    def read(self, workspace: str, sha256: str) -> bytes:
        """The verified bytes of one blob."""
        ...

    def read_many(self, workspace: str, digests: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """Verified ``(sha256, bytes)`` for each digest, in any order, each once.

        Adapters batch this (e.g. one request per pack) so that pulling thousands
        of small files does not cost one round trip each. Meant for blobs small
        enough to hold in memory; use ``stream`` for large ones.
        """
        ...

    def stream(self, workspace: str, sha256: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The blob's bytes in chunks. Verification happens at the end: the last
        step raises ``BlobCorrupt`` if the bytes did not match, so callers write to
        a temporary file and commit it only once iteration completes."""
        ...

    def delete_many(self, workspace: str, digests: Iterable[str]) -> int:
        """Remove these blobs (absent ones are ignored); return bytes reclaimed."""
        ...

    def list_blobs(self, workspace: str) -> Iterator[BlobInfo]:
        """Every blob this workspace holds (for orphan sweeps and audits)."""
        ...

    def stats(self, workspace: str) -> BlobStats:
        """How many blobs and bytes this workspace holds."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
