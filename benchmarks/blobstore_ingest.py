"""Blob store ingest and read figures for docs/blobstore.md.

Starts its own ``weed`` (loopback, random free ports) under the work directory,
then measures, for N random-bytes blobs of S bytes (default 10,000 x 50 KB):

- LocalBlobStore.put_many (default and durable=True) and read_many;
- one HTTP PUT per file to the filer, sequential and with 8 threads (the
  design we did not take), on a sample of the blobs;
- SeaweedBlobStore.put_many (packed; fsync off and on), with packs sent to the
  filer and straight to a volume server side by side, then read_many and read()
  for both.

Every timed step writes into a fresh directory or filer root; nothing is deleted
inside a timed step (a mass delete slows file creation on these disks), and each
starts after an untimed ``os.sync()`` so earlier writeback does not bleed in.

    .venv/bin/python benchmarks/blobstore_ingest.py [--count 10000] [--size 50000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from appliance.adapters.blobs.local import LocalBlobStore
from appliance.adapters.blobs.seaweed import SeaweedBlobStore
from appliance.adapters.seaweed.process import WeedServer
from appliance.ports.blobstore import BlobPut


def timed(fn: Callable[[], object]) -> float:
    # Start every step with no dirty pages from the previous one, so one step's
    # writeback does not slow the next; the sync itself is not timed.
    os.sync()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarise(results: list[dict[str, object]]) -> None:
    """Median and range of every step measured more than once."""
    by_name: dict[str, list[dict[str, object]]] = {}
    for row in results:
        by_name.setdefault(str(row["name"]), []).append(row)
    print("\nsummary: median (min-max)")
    for name, rows in by_name.items():
        parts = []
        for key in ("seconds", "weed_cpu_s", "python_cpu_s"):
            values = sorted(float(r[key]) for r in rows if key in r)  # type: ignore[arg-type]
            if values:
                mid = statistics.median(values)
                parts.append(f"{key} {mid:.2f} ({values[0]:.2f}-{values[-1]:.2f})")
        print(f"  {name:<44} n={len(rows)}  " + "  ".join(parts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3, help="repeat each packed measurement")
    ap.add_argument("--per-file-sample", type=int, default=2000)
    ap.add_argument("--workdir", type=Path, default=None, help="default: a temp dir under /tmp")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="ahoy-blobbench-"))
    work.mkdir(parents=True, exist_ok=True)
    n, size = args.count, args.size
    print(f"generating {n} x {size} random bytes ...", flush=True)
    datas = [os.urandom(size) for _ in range(n)]
    puts = [BlobPut(hashlib.sha256(d).hexdigest(), size, data=d) for d in datas]
    digests = [p.sha256 for p in puts]
    results: list[dict[str, object]] = []

    def record(name: str, seconds: float, files: int = n, **extra: float) -> None:
        row: dict[str, object] = {"name": name, "files": files, "seconds": round(seconds, 3)}
        row["files_per_s"] = round(files / seconds)
        row.update({k: round(v, 2) for k, v in extra.items()})
        results.append(row)
        mb_s = files * size / seconds / 1e6
        more = "".join(f"  {k} {v:.2f}" for k, v in extra.items())
        print(f"{name:<44} {seconds:7.3f} s {files / seconds:9.0f} files/s {mb_s:6.0f} MB/s{more}")

    # -- local disk ----------------------------------------------------------------
    for durable in [False] * args.runs + [True]:
        store = LocalBlobStore(work / f"local-{uuid.uuid4().hex}", durable=durable)
        record(
            f"local put_many (durable={durable})",
            timed(lambda: store.put_many("ws", puts)),  # noqa: B023
        )
        if not durable:
            record(
                "local read_many",
                timed(lambda: sum(1 for _ in store.read_many("ws", digests))),  # noqa: B023
            )

    # -- seaweedfs -----------------------------------------------------------------
    server = WeedServer(work / "weed" / "data", work / "weed" / "log")
    print("starting weed ...", flush=True)
    record_start = timed(server.start)
    print(f"weed ready in {record_start:.1f} s at {server.filer_url}", flush=True)
    try:
        url = server.filer_url
        pid = server.pid or 0
        sample = datas[: args.per_file_sample]
        http = server.client_session()
        http.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=16))

        def put_one(i: int, root: str) -> None:
            http.put(f"{url}{root}/{i}", data=sample[i]).raise_for_status()

        root = f"/bench-per-file/{uuid.uuid4().hex}"
        record(
            "filer: one PUT per file, sequential",
            timed(lambda: list(map(lambda i: put_one(i, root), range(len(sample))))),
            files=len(sample),
        )
        root2 = f"/bench-per-file/{uuid.uuid4().hex}"
        with ThreadPoolExecutor(8) as pool:
            record(
                "filer: one PUT per file, 8 threads",
                timed(lambda: list(pool.map(lambda i: put_one(i, root2), range(len(sample))))),
                files=len(sample),
            )

        def seaweed(path: str, fsync: bool) -> SeaweedBlobStore:
            return SeaweedBlobStore(
                url, work / f"index-{uuid.uuid4().hex}.sqlite", root=f"/bench/{uuid.uuid4().hex}",
                master_url=server.master_url if path == "volume" else None, fsync=fsync,
                credentials=server.credentials,
            )  # fmt: skip

        # weed's first hundreds of MB after a start cost it more CPU (page cache
        # and Go heap growth); warm both paths up untimed so neither pays it alone.
        for path in ("filer", "volume"):
            warm = seaweed(path, fsync=True)
            warm.put_many("ws", puts[: n // 2])
            warm.close()
        # Interleaved, so CPU noise from other work on the box hits both paths alike.
        for _ in range(args.runs):
            for fsync in (False, True):
                for path in ("filer", "volume"):
                    sw = seaweed(path, fsync)
                    before, cpu0 = time.process_time(), cpu_seconds(pid)
                    seconds = timed(lambda: sw.put_many("ws", puts))  # noqa: B023
                    record(
                        f"seaweed put_many packed, {path} (fsync={fsync})",
                        seconds,
                        weed_cpu_s=cpu_seconds(pid) - cpu0,
                        python_cpu_s=time.process_time() - before,
                    )
                    if not fsync:
                        record(
                            f"seaweed read_many, {path}",
                            timed(lambda: sum(1 for _ in sw.read_many("ws", digests))),  # noqa: B023
                        )
                        k = min(n, 1000)
                        record(
                            f"seaweed read() one by one, {path}",
                            timed(lambda: [sw.read("ws", d) for d in digests[:k]]),  # noqa: B023
                            files=k,
                        )
                    sw.close()
    finally:
        print("stopping weed (about 15 s) ...", flush=True)
        server.stop()
    summarise(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.workdir is None:
        aside = work.with_name(work.name + "-done")  # outside any timed step
        work.rename(aside)
        shutil.rmtree(aside, ignore_errors=True)


if __name__ == "__main__":
    main()
