"""Token buckets keyed by a name (an account, a source address): how many tries are
left, and how long until the next one. Pure: the caller passes the time.

A bucket holds up to ``capacity`` tries and earns one back every ``refill``
seconds. A missing bucket is a full one, so only keys that spent something are
kept; ``max_keys`` bounds the table against a flood of fresh names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class _Bucket:
    tries: float
    at: float


class TokenBuckets:
    def __init__(self, capacity: int, refill: float, max_keys: int = 10_000) -> None:
        if capacity < 1 or refill <= 0:
            raise ValueError("a bucket needs a capacity of at least 1 and a positive refill")
        self.capacity = capacity
        self.refill = refill
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def _level(self, key: str, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(self.capacity)
        return min(self.capacity, bucket.tries + max(0.0, now - bucket.at) / self.refill)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        level = self._level(key, now)
        return 0.0 if level >= 1 else (1 - level) * self.refill

    def take(self, key: str, now: float) -> bool:
        """Spend one try if there is one (check and spend at once, so two callers
        racing for the last try cannot both get it)."""
        level = self._level(key, now)
        if level < 1:
            return False
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._prune(now)
        self._buckets[key] = _Bucket(level - 1, now)
        return True

    def give_back(self, key: str, now: float) -> None:
        """Undo a ``take`` (the try turned out not to count)."""
        level = min(self.capacity, self._level(key, now) + 1)
        if level >= self.capacity:
            self._buckets.pop(key, None)
        else:
            self._buckets[key] = _Bucket(level, now)

    def _prune(self, now: float) -> None:
        """Forget the buckets that are full again; if every bucket is still in use,
        forget the fullest (they are the closest to being forgotten anyway)."""
        full = [k for k in self._buckets if self._level(k, now) >= self.capacity]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            by_level = sorted(self._buckets, key=lambda k: self._level(k, now), reverse=True)
            for key in by_level[: len(by_level) // 10 + 1]:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(wait: float) -> int:
    """Whole seconds for a ``Retry-After`` header: never 0 while waiting is needed."""
    return max(1, math.ceil(wait))
