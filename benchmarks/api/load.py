"""A small closed-loop load generator: N keep-alive clients on loopback."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Latency:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def hammer(url: str, token: str | None, clients: int, total: int) -> Latency:
    """``total`` GETs of ``url`` from ``clients`` threads, each with its own session."""
    per = max(1, total // clients)
    samples: list[float] = []
    errors = 0
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def client() -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        with requests.Session() as s:
            s.get(url, headers=headers, timeout=30)  # connect outside the timing
            for _ in range(per):
                t0 = time.perf_counter()
                r = s.get(url, headers=headers, timeout=30)
                mine.append(time.perf_counter() - t0)
                bad += r.status_code != 200
        with lock:
            samples.extend(mine)
            errors += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(samples, n=100)
    return Latency(len(samples), elapsed, q[49] * 1000, q[98] * 1000, errors)
