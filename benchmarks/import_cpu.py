"""One import+commit with its CPU cost: for before/after comparisons of the blob path.

Imports a tree through the real ``ahoy`` CLI against a real ``ahoy serve`` on a
fresh data dir (``bench_data_engine.py``'s "ahoy CLI/seaweedfs") and prints one
JSON line: wall seconds, and the CPU-seconds of the CLI processes and of ``ahoy
serve`` + weed. CPU-seconds move much less with other work on a shared box than
wall-clock seconds do.

To compare two versions, run it from each checkout in turn, several times
(docs/blobstore.md, "Why tokens on the volume and filer ports"):

    PYTHONPATH=<checkout> .venv/bin/python benchmarks/import_cpu.py <tree> <workdir> <label>

``<tree>``: e.g. the data-engine benchmark's generated tree
(``.bench/gen/jpeg-v1-n10000-s51200-x300/tree``), older than a few seconds.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.data_engine.common import BIN, SLUG, settle, sh  # noqa: E402
from benchmarks.data_engine.served import served  # noqa: E402


def tree_cpu(pids: Iterable[int]) -> float:
    """CPU-seconds of these processes and all their living descendants."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for p in procs:
            try:
                t = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system
    return total


def through_cli(tree: Path, work: Path) -> dict[str, float]:
    ahoy = [str(BIN / "ahoy"), "--json"]
    me = psutil.Process()
    with served(work / f"cli-{uuid.uuid4().hex[:8]}", "seaweedfs") as app:
        env = app.env(work / "cli-config")
        serve = [c.pid for c in me.children() if "serve" in c.cmdline()]
        sh([*ahoy, "dataset", "create", SLUG], env=env)
        settle()
        before, serve0 = resource.getrusage(resource.RUSAGE_CHILDREN), tree_cpu(serve)
        t0 = time.perf_counter()
        sh([*ahoy, "dataset", "import", tree, "-d", SLUG], env=env)
        sh([*ahoy, "dataset", "commit", SLUG, "-m", "v1"], env=env)
        seconds = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return {
            "cli_s": round(seconds, 3),
            "cli_client_cpu": round(cli, 2),
            "cli_serve_weed_cpu": round(tree_cpu(serve) - serve0, 2),
        }


def main() -> None:
    tree, work, label = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    work.mkdir(parents=True, exist_ok=True)
    try:
        row: dict[str, object] = {"label": label}
        row.update(through_cli(tree, work))
        row["load1"] = round(os.getloadavg()[0], 2)
        print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
