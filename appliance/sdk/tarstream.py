"""Tar in both directions, one member at a time.

Upload: a lazily generated ustar stream of blobs named by their sha256 hex, whose
exact length is known up front (so it goes with a Content-Length), re-hashing each
file as it is read so a file changed since it was hashed is never sent as that hash.

Download: the checks a member must pass before a byte of it is written.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from appliance.domain.names import check_filename
from appliance.errors import ImportRejected, InvalidFilename
from appliance.sdk.errors import TransferError

BLOCK = tarfile.BLOCKSIZE  # 512
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class BlobSource:
    """A blob to send: its digest, size, and one local file that holds it."""

    sha256: str
    size: int
    path: str
    name: str  # the dataset filename, for error messages
    data: bytes | None = None  # the bytes that were hashed, when they were kept


def member_header(sha256: str, size: int) -> bytes:
    """The 512-byte ustar header of a blob member: a regular file named by its digest."""
    info = tarfile.TarInfo(sha256)
    info.size = size
    info.mode = 0o644
    info.type = tarfile.REGTYPE
    info.mtime = 0
    return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "strict")


def padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def tar_length(blobs: Iterable[BlobSource]) -> int:
    """Bytes of the tar ``blob_tar`` produces: headers, padded data, two end blocks."""
    return sum(BLOCK + padded(b.size) for b in blobs) + 2 * BLOCK


def file_chunks(src: BlobSource) -> Iterator[bytes]:
    """The file's bytes; raises if it no longer has the size and digest it was hashed with."""
    h = hashlib.sha256()
    seen = 0
    try:
        with open(src.path, "rb") as fh:
            while seen < src.size and (chunk := fh.read(min(CHUNK, src.size - seen))):
                h.update(chunk)
                seen += len(chunk)
                yield chunk
            grew = bool(fh.read(1))
    except OSError as exc:
        raise ImportRejected([(src.name, f"cannot read: {exc.strerror or exc}")]) from exc
    if seen != src.size or grew or h.hexdigest() != src.sha256:
        raise ImportRejected([(src.name, "the file changed while it was being imported")])


def blob_tar(blobs: Iterable[BlobSource], advance: Callable[[int], None]) -> Iterator[bytes]:
    """A tar stream of ``blobs``, generated as it is sent; ``advance(n)`` per data chunk.

    Kept bytes are sent as they were hashed (no second read); the rest are read and
    re-hashed on the way. Small members are coalesced into ~1 MiB writes."""
    out: list[bytes] = []
    held = 0
    for b in blobs:
        out.append(member_header(b.sha256, b.size))
        if b.data is not None:
            out.append(b.data)
            advance(b.size)
        else:
            for chunk in file_chunks(b):
                out.append(chunk)
                advance(len(chunk))
        if pad := padded(b.size) - b.size:
            out.append(bytes(pad))
        held += BLOCK + padded(b.size)
        if held >= CHUNK:
            yield b"".join(out)
            out, held = [], 0
    out.append(bytes(2 * BLOCK))
    yield b"".join(out)


class SizedStream:
    """An iterable body with a known length: requests then sends a Content-Length
    rather than chunked encoding, and stops at the first error it raises."""

    def __init__(self, chunks: Iterator[bytes], length: int) -> None:
        self._chunks = chunks
        self._length = length
        self.error: BaseException | None = None

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        except BaseException as exc:
            # requests may wrap or swallow what the body raises; keep the cause
            self.error = exc
            raise


def check_member(member: tarfile.TarInfo, expected: set[str]) -> str:
    """The dataset filename a downloaded member may be written as, or raise.

    Only regular files whose names are safe dataset paths (no absolute path, no
    ``..``, no backslash) and that the version's manifest lists are accepted.
    """
    name = member.name
    if not member.isreg():
        kind = "a link" if member.issym() or member.islnk() else "not a regular file"
        raise TransferError("unsafe-archive", f"archive member {name!r} is {kind}")
    try:
        check_filename(name)
    except InvalidFilename as exc:
        raise TransferError("unsafe-archive", f"archive member {name!r}: {exc.reason}") from None
    if name not in expected:
        raise TransferError(
            "unsafe-archive", f"archive member {name!r} is not in the version's manifest"
        )
    return name
