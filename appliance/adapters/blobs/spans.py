"""Turn looked-up blob locations into the few byte ranges a read fetches."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.adapters.blobs.pack_index import Location

_SPAN_GAP = 256 << 10  # a read fetches across gaps up to this, to save a request
_SPAN_MAX = 64 << 20


@dataclass(frozen=True, slots=True)
class Span:
    """A byte range of one object that holds several wanted blobs."""

    workspace: str
    locator: str
    start: int
    end: int
    entries: list[tuple[str, int, int]]  # (sha256, offset, size)


def coalesce(workspace: str, where: dict[str, Location]) -> list[Span]:
    """Group blobs by object and merge neighbours into one range per run, so a
    whole pack read back costs one GET."""
    by_object: dict[str, list[tuple[str, int, int]]] = {}
    for sha, loc in where.items():
        by_object.setdefault(loc.locator, []).append((sha, loc.offset, loc.size))
    spans: list[Span] = []
    for locator, entries in by_object.items():
        entries.sort(key=lambda e: e[1])
        run: list[tuple[str, int, int]] = []
        start = end = 0
        for entry in entries:
            _, off, size = entry
            if run and (off - end > _SPAN_GAP or off + size - start > _SPAN_MAX):
                spans.append(Span(workspace, locator, start, end, run))
                run = []
            if run:
                end = max(end, off + size)
            else:
                start, end = off, off + size
            run.append(entry)
        spans.append(Span(workspace, locator, start, end, run))
    return spans
