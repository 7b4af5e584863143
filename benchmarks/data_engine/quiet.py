"""Waiting for a quiet machine, and measuring what else used the CPU."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from benchmarks.data_engine.common import BUSY_SHARE, DELETE_COOLDOWN, QUIET, SETTLE_LIMIT, Trash
from benchmarks.data_engine.report import mount_of


def _discards(stat: Path) -> int | None:
    """Discard requests the block device has completed (field 12 of its stat)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int(stat.read_text().split()[11])
    return None


def _busy() -> tuple[int, int]:
    """(busy, total) CPU ticks of the machine so far."""
    with open("/proc/stat") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def wait_for_quiet(workdir: Path, trash: Trash) -> str | None:
    """Wait until deletes (ours or anyone's) have stopped slowing the disk and no
    other job is busy on the CPUs; a note if that took a while or never happened."""
    device = mount_of(workdir)[2]
    stat = Path("/sys/class/block", os.path.basename(device), "stat")
    t0 = quiet_since = now = time.monotonic()
    last, cpu = _discards(stat), _busy()
    print("waiting for a quiet machine (no disk discards, idle CPUs)...")
    while True:
        since = trash.since_delete()
        cooled = since is None or since >= DELETE_COOLDOWN
        if cooled and now - quiet_since >= QUIET:
            break
        if now - t0 > SETTLE_LIMIT:
            return (
                f"the machine was not quiet after {SETTLE_LIMIT:.0f} s of waiting "
                "(disk discards or another job); figures may be pessimistic"
            )
        time.sleep(1.0)
        count, (busy, total) = _discards(stat), _busy()
        busy_share = (busy - cpu[0]) / max(1, total - cpu[1])
        if count != last or busy_share > BUSY_SHARE:
            quiet_since = time.monotonic()
        last, cpu, now = count, (busy, total), time.monotonic()
    waited = time.monotonic() - t0
    return f"waited {waited:.0f} s for a quiet machine before a round" if waited > 30 else None


class CpuMeter:
    """CPU time the machine spent outside this benchmark's own processes: another
    job on a 2-core box skews every figure, so the report says how much there was."""

    def __init__(self) -> None:
        self.t0, self.start = time.monotonic(), self._read()

    @staticmethod
    def _read() -> tuple[float, float, float]:
        """(busy CPU-seconds of the machine, of kernel threads, of us and our children)."""
        hz = os.sysconf("SC_CLK_TCK")
        busy = _busy()[0]
        kernel = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                with open(f"/proc/{entry.name}/stat") as fh:
                    f = fh.read().rsplit(")", 1)[1].split()
                if f[1] == "2" or entry.name == "2":  # kthreadd's children: writeback etc.
                    kernel += int(f[11]) + int(f[12])
        t = os.times()
        return busy / hz, kernel / hz, t.user + t.system + t.children_user + t.children_system

    def foreign(self) -> str:
        (busy0, kern0, own0), (busy1, kern1, own1) = self.start, self._read()
        kernel = kern1 - kern0
        other = max(0.0, busy1 - busy0 - (own1 - own0) - kernel)
        capacity = (time.monotonic() - self.t0) * (os.cpu_count() or 1)
        return (
            f"CPU outside this benchmark: {other:.1f} s in other processes "
            f"and interrupts ({100 * other / capacity:.0f} % of the machine), "
            f"{kernel:.1f} s in kernel threads (writeback, mostly ours)"
        )
