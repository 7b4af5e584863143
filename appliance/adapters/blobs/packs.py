"""The pack object format: many small blobs in one object, self-describing.

Layout (all offsets in bytes from the start of the object)::

    blob 0 | blob 1 | ... | footer JSON (UTF-8) | footer length (u64 BE) | b"AHOYPAK1"

The footer lists every entry as ``[sha256, offset, size]`` plus the workspace and
creation time, so the SQLite index can be rebuilt from the objects alone, and a
pack found with no index rows can be recognised as ours before it is swept.
"""

from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass, field

from appliance.adapters.blobs.keys import HASH_ALGORITHM

MAGIC = b"AHOYPAK1"
TRAILER = struct.Struct(">Q8s")  # footer length, magic
TRAILER_SIZE = TRAILER.size
FORMAT_VERSION = 1


class PackFormatError(ValueError):
    """The bytes are not a pack this code wrote."""


@dataclass(frozen=True, slots=True)
class PackEntry:
    sha256: str
    offset: int
    size: int


@dataclass(slots=True)
class PackBuilder:
    """Accumulates blobs in memory until ``seal`` turns them into one object."""

    workspace: str
    buffer: bytearray = field(default_factory=bytearray)
    entries: list[PackEntry] = field(default_factory=list)
    shas: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def size(self) -> int:
        return len(self.buffer)

    def add(self, sha256: str, data: bytes | bytearray | memoryview) -> PackEntry | None:
        if sha256 in self.shas:
            return None
        entry = PackEntry(sha256, len(self.buffer), len(data))
        self.buffer += data
        self.entries.append(entry)
        self.shas.add(sha256)
        return entry

    def seal(self, created_at: float | None = None) -> tuple[bytearray, list[PackEntry], float]:
        """The finished object (buffer, footer and trailer) and its entries.

        The builder is left empty; the returned bytearray is handed over, not copied.
        """
        created = time.time() if created_at is None else created_at
        footer = json.dumps(
            {
                "format": FORMAT_VERSION,
                "algorithm": HASH_ALGORITHM,
                "workspace": self.workspace,
                "created_at": created,
                "entries": [[e.sha256, e.offset, e.size] for e in self.entries],
            },
            separators=(",", ":"),
        ).encode()
        body, entries = self.buffer, self.entries
        body += footer
        body += TRAILER.pack(len(footer), MAGIC)
        self.buffer, self.entries, self.shas = bytearray(), [], set()
        return body, entries, created


@dataclass(frozen=True, slots=True)
class PackFooter:
    workspace: str
    created_at: float
    entries: list[PackEntry]


def footer_length(trailer: bytes) -> int:
    if len(trailer) != TRAILER_SIZE:
        raise PackFormatError("truncated trailer")
    length, magic = TRAILER.unpack(trailer)
    if magic != MAGIC:
        raise PackFormatError("no pack magic at the end of the object")
    return int(length)


def parse_footer(raw: bytes, object_size: int) -> PackFooter:
    try:
        doc = json.loads(raw)
        entries = [PackEntry(str(s), int(o), int(n)) for s, o, n in doc["entries"]]
        footer = PackFooter(str(doc["workspace"]), float(doc["created_at"]), entries)
    except (ValueError, KeyError, TypeError) as exc:
        raise PackFormatError(f"unreadable footer: {exc}") from exc
    if doc.get("format") != FORMAT_VERSION or doc.get("algorithm") != HASH_ALGORITHM:
        raise PackFormatError(f"unsupported pack format {doc.get('format')!r}")
    data_end = object_size - TRAILER_SIZE - len(raw)
    if any(e.offset < 0 or e.offset + e.size > data_end for e in entries):
        raise PackFormatError("an entry points outside the pack's data")
    return footer
