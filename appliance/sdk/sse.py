"""A Server-Sent Events reader (the WHATWG event-stream format), fed raw bytes.

Only what job events need: ``event``, ``data`` (multi-line joined by ``\\n``),
``id``; comment lines (``:`` keep-alives) and ``retry`` are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerEvent:
    event: str
    data: str
    id: str | None = None


class SseParser:
    """Feed lines (without their line ending); a blank line dispatches an event."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, line: str) -> ServerEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\x00" not in value:
            self._id = value
        return None

    def _dispatch(self) -> ServerEvent | None:
        if not self._data:
            self._event = ""
            return None
        ev = ServerEvent(self._event or "message", "\n".join(self._data), self._id)
        self._event, self._data = "", []
        return ev


def iter_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Split a byte stream on ``\\r\\n``, ``\\n`` or ``\\r``, across chunk borders."""
    buf = b""
    for chunk in chunks:
        buf += chunk
        while True:
            cut = _line_end(buf)
            if cut is None:
                break
            end, skip = cut
            yield buf[:end].decode("utf-8", "replace")
            buf = buf[end + skip :]
    if buf:
        yield buf.rstrip(b"\r").decode("utf-8", "replace")


def _line_end(buf: bytes) -> tuple[int, int] | None:
    n, r = buf.find(b"\n"), buf.find(b"\r")
    if r == -1 and n == -1:
        return None
    if r == -1 or (n != -1 and n < r):
        return n, 1
    if r == len(buf) - 1:
        return None  # a lone \r at the end may be half of \r\n: wait for more
    return r, 2 if buf[r + 1 : r + 2] == b"\n" else 1


def iter_events(chunks: Iterable[bytes]) -> Iterator[ServerEvent]:
    """Events from a byte stream; an unterminated last event is dropped (per spec)."""
    parser = SseParser()
    for line in iter_lines(chunks):
        ev = parser.feed(line)
        if ev is not None:
            yield ev
