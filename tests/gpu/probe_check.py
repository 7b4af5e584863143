"""Device check (run on a GPU machine): the live probe reads the real GPUs and the
governor admits a GPU job on it. Prints one JSON report; exits 1 on a failed check.

    PYTHONPATH=. python3 tests/gpu/probe_check.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from appliance.adapters.probe.host import HostProbe
from appliance.domain.governor import GIB, REJECT, RUN, ResourceRequest, Running, decide


def main() -> int:
    probe = HostProbe(Path(tempfile.gettempdir()))
    reading = probe.read()
    report: dict[str, object] = {"reading": asdict(reading)}
    ok = bool(reading.gpus) and all(g.memory_total_mib > 0 for g in reading.gpus)
    job = ResourceRequest(cpu_cores=2, ram_bytes=4 * GIB, gpus=1, vram_mib=8_000)
    first = decide(job, reading)
    second = decide(job, reading, [Running("a", job, first.devices)])
    huge = decide(ResourceRequest(2, 4 * GIB, gpus=1, vram_mib=10_000_000), reading)
    report["decisions"] = [first.as_dict(), second.as_dict(), huge.as_dict()]
    ok = ok and first.verdict == RUN and huge.verdict == REJECT
    probe.close()
    report["ok"] = ok
    print(json.dumps(report, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
