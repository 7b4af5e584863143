"""The box benchmark's child process: ``python -m appliance.jobs.box_benchmark S N DIR``.

Half the time hashes in N processes, half writes (and fsyncs) to DIR. Reports with
events (appliance.child_events)."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from multiprocessing import Pool
from pathlib import Path

from appliance.child_events import emit

BLOCK = os.urandom(1 << 20)


def _hash_for(seconds: float) -> int:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        hashlib.sha256(BLOCK).digest()
        n += 1
    return n


def main(seconds: float, cores: int, scratch: Path) -> None:
    half = seconds / 2
    started = time.monotonic()
    emit("progress", done=0, total=round(seconds), phase="hashing")
    with Pool(cores) as pool:
        pending = pool.map_async(_hash_for, [half] * cores)
        while not pending.ready():
            pending.wait(0.25)
            emit(
                "progress",
                done=round(time.monotonic() - started),
                total=round(seconds),
                phase="hashing",
            )
        blocks = sum(pending.get())
    hash_mib_s = blocks / half
    written = 0
    target = scratch / "write.bin"
    end = time.monotonic() + half
    with open(target, "wb") as fh:
        while time.monotonic() < end:
            fh.write(BLOCK * 8)
            written += 8
            if written % 64 == 0:
                os.fsync(fh.fileno())
                emit(
                    "progress",
                    done=round(time.monotonic() - started),
                    total=round(seconds),
                    phase="writing",
                )
        os.fsync(fh.fileno())
    write_mib_s = written / (time.monotonic() - end + half)
    target.unlink()
    emit(
        "result",
        data={
            "cores": cores,
            "sha256_mib_per_s": round(hash_mib_s, 1),
            "sha256_mib_per_s_per_core": round(hash_mib_s / cores, 1),
            "disk_write_mib_per_s": round(write_mib_s, 1),
        },
    )
    print(f"hashing {hash_mib_s:.0f} MiB/s on {cores} core(s); writing {write_mib_s:.0f} MiB/s")


if __name__ == "__main__":
    main(float(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
