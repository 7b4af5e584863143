"""Refused sign-ins and anonymous requests, counted per source address and window.

A flood of bad tokens or oversized URLs must not write one audit entry per
request (each could carry a 60 KB path): the tally keeps one small summary per
(source, window) in memory, and the service writes each closed window as one
audit entry. Every string kept is cut to a fixed length, and the counts of
distinct sources, samples, reasons and accounts are bounded, so a summary stays
small whatever arrives. Pure: the caller passes the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: Longest request line or account name a summary keeps.
KEEP_CHARS = 200
#: Request samples, distinct reasons and account names a summary keeps.
SAMPLES, REASONS, ACCOUNTS = 5, 10, 20
#: Sources tracked per window; the rest are counted together under ``OTHERS``.
MAX_SOURCES = 1000
OTHERS = "(other sources)"


def clip(text: str, limit: int = KEEP_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...(+{len(text) - limit} chars)"


def _bump(counts: dict[str, int], key: str, cap: int) -> None:
    if key in counts or len(counts) < cap:
        counts[key] = counts.get(key, 0) + 1
    else:
        counts["(others)"] = counts.get("(others)", 0) + 1


@dataclass
class RefusalSummary:
    source: str
    window_start: float
    window_seconds: float
    count: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    accounts: dict[str, int] = field(default_factory=dict)

    def detail(self) -> dict[str, Any]:
        """The audit entry's details."""
        return {
            "window_start": self.window_start,
            "window_seconds": self.window_seconds,
            "count": self.count,
            "reasons": dict(sorted(self.reasons.items())),
            "samples": self.samples,
            "accounts": dict(sorted(self.accounts.items())),
        }


class RefusalTally:
    def __init__(self, window: float, max_sources: int = MAX_SOURCES) -> None:
        if window <= 0:
            raise ValueError("the window must be positive")
        self.window = window
        self.max_sources = max_sources
        self._open: dict[tuple[str, int], RefusalSummary] = {}

    def _slot(self, now: float) -> int:
        return math.floor(now / self.window)

    def record(
        self,
        source: str,
        now: float,
        reason: str,
        request: str | None = None,
        account: str | None = None,
    ) -> None:
        slot = self._slot(now)
        key = (source, slot)
        if key not in self._open:
            in_slot = sum(1 for _, s in self._open if s == slot)
            if in_slot >= self.max_sources:
                key = (OTHERS, slot)
        summary = self._open.get(key)
        if summary is None:
            summary = RefusalSummary(key[0], slot * self.window, self.window)
            self._open[key] = summary
        summary.count += 1
        _bump(summary.reasons, clip(reason), REASONS)
        if request is not None:
            sample = clip(request)
            if sample not in summary.samples and len(summary.samples) < SAMPLES:
                summary.samples.append(sample)
        if account is not None:
            _bump(summary.accounts, clip(account), ACCOUNTS)

    def due(self, now: float) -> list[RefusalSummary]:
        """Take out the summaries whose window has closed, oldest first."""
        current = self._slot(now)
        closed = sorted((k for k in self._open if k[1] < current), key=lambda k: (k[1], k[0]))
        return [self._open.pop(k) for k in closed]

    def drain(self) -> list[RefusalSummary]:
        """Take out everything, the open window too (at shutdown)."""
        keys = sorted(self._open, key=lambda k: (k[1], k[0]))
        return [self._open.pop(k) for k in keys]

    def __len__(self) -> int:
        return len(self._open)
