"""File-like adapters between chunk iterators and code that wants files."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any


class ChunkRaw(io.RawIOBase):
    """Raw reads over a source of chunks; wrap in ``io.BufferedReader``."""

    def __init__(self, next_chunk: Callable[[], bytes | None]) -> None:
        self.next_chunk = next_chunk
        self.pending = memoryview(b"")
        self.eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self.pending and not self.eof:
            chunk = self.next_chunk()
            if chunk is None:
                self.eof = True
            else:
                self.pending = memoryview(chunk)
        n = min(len(b), len(self.pending))
        b[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


def iter_reader(chunks: Iterator[bytes]) -> io.BufferedReader:
    """A readable file over an iterator of chunks (a streamed blob)."""
    return io.BufferedReader(ChunkRaw(lambda: next(chunks, None)), buffer_size=1 << 20)


class ChunkSink(io.RawIOBase):
    """A write-only file that collects what is written, for generators to drain."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.held = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.parts.append(bytes(b))
        self.held += len(b)
        return len(b)

    def drain(self) -> Iterator[bytes]:
        parts, self.parts, self.held = self.parts, [], 0
        if parts:
            yield b"".join(parts)
