"""API benchmark (`make bench`): what the HTTP API costs.

1. Upload + commit of the generated JPEG set through the SDK (hash locally, ask
   which blobs are missing, send tar batches, stage, commit) against a real
   `ahoy serve` on loopback, on SeaweedFS, each round into a fresh workspace (so
   nothing deduplicates against an earlier round); beside it the limit: reading
   and hashing every byte once, in-process, the work no upload can skip.
2. Latency of `GET version` under concurrent keep-alive clients on loopback,
   p50/p99, next to `GET /healthz` (no auth, no database) as the floor of the
   HTTP stack itself.

Figures go to the terminal and the API section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from appliance.sdk import Client  # noqa: E402
from benchmarks.api.load import Latency, hammer  # noqa: E402
from benchmarks.data_engine.common import Trash, settle, warm  # noqa: E402
from benchmarks.data_engine.dataset import generate  # noqa: E402
from benchmarks.data_engine.report import machine, revision  # noqa: E402
from benchmarks.data_engine.report import write_doc as write_section  # noqa: E402
from benchmarks.data_engine.served import served  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:api:start -->", "<!-- bench:api:end -->"


def cpu_seconds() -> float:
    """User + system CPU of this process and every process below it (the
    appliance and its weed): the work a path costs, whatever the overlap."""
    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def via_api(client: Client, ws: str, tree: Path) -> tuple[float, float]:
    client.create_dataset(ws, "bench")
    warm(tree)
    settle()
    c0, t0 = cpu_seconds(), time.perf_counter()
    client.upload_tree(ws, "bench", tree)
    client.commit(ws, "bench", "v1")
    return time.perf_counter() - t0, cpu_seconds() - c0


def limit(tree: Path) -> float:
    """Read and sha256 every file once, one thread: the work no upload can skip."""
    paths = sorted(p for p in tree.rglob("*") if p.is_file())
    warm(tree)
    settle()
    t0 = time.perf_counter()
    for path in paths:
        hashlib.sha256(path.read_bytes()).digest()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--size", type=int, default=51_200)
    p.add_argument("--rounds", type=int, default=2, help="upload+commit rounds")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--workdir", type=Path, default=Path(".bench"))
    p.add_argument("--quick", action="store_true", help="1,000 files, 1 round, 800 requests")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = p.parse_args(argv)
    if args.quick:
        args.files, args.rounds, args.requests = 1000, 1, 800
    workdir = args.workdir.resolve()
    trash = Trash(workdir / "trash")
    tree = generate(workdir, args.files, args.size, 300, trash) / "tree"
    run = workdir / f"api-{time.strftime('%Y%m%d-%H%M%S')}"
    api_s: list[float] = []
    limit_s: list[float] = []
    cpu: list[float] = []
    with served(run / "appliance", "seaweedfs") as app:
        client = Client(app.url, app.token)
        for i in range(args.rounds):
            client.create_workspace(f"api-{i}")
            wall, used = via_api(client, f"api-{i}", tree)
            api_s.append(wall)
            cpu.append(used)
            limit_s.append(limit(tree))
            print(f"round {i + 1}: {wall:6.2f} s, {used:5.2f} CPU-s; limit {limit_s[-1]:.2f} s")
        version_url = f"{app.url}/v1/workspaces/api-0/datasets/bench/versions/1"
        idle = hammer(f"{app.url}/healthz", None, args.clients, args.requests)
        got = hammer(version_url, app.token, args.clients, args.requests)
    trash.move(run)
    trash.empty()
    lines = report(args, api_s, limit_s, idle, got, workdir, cpu)
    print("\n".join(lines))
    if not args.no_doc:
        write_doc(lines)
    return 0


def report(
    args: argparse.Namespace,
    api_s: list[float],
    limit_s: list[float],
    idle: Latency,
    got: Latency,
    workdir: Path,
    cpu: list[float],
) -> list[str]:
    mb = args.files * args.size / 1e6
    best, best_limit = min(api_s), min(limit_s)
    command = "python benchmarks/bench_api.py " + shlex.join(sys.argv[1:])
    return [
        START,
        "## API",
        "",
        f"Command: `{command.strip()}`  ",
        f"Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}  ",
        f"Code: {revision()}  ",
        f"Machine: {machine(workdir)}",
        "",
        f"Upload + commit of {args.files:,} JPEGs (~{mb:,.0f} MB) into SeaweedFS, best of "
        f"{len(api_s)} rounds, each into a fresh workspace:",
        "",
        "| path | seconds (each round) | best | files/s | CPU-s, all processes (median) |",
        "|---|---|---|---|---|",
        f"| SDK over HTTP (`ahoy serve` on loopback) | {_each(api_s)} | {best:.2f} | "
        f"{args.files / best:,.0f} | {statistics.median(cpu):.2f} |",
        f"| limit: read + sha256 every byte once, in-process | {_each(limit_s)} | "
        f"{best_limit:.2f} | {args.files / best_limit:,.0f} | |",
        "",
        f"API / limit: **{best / best_limit:.1f}x**. The upload hashes every byte twice by "
        "design (the client, to ask which blobs are missing; the appliance, to check what "
        "arrives), stores it and records every file, in three processes (client, "
        f"`ahoy serve`, weed) on {os.cpu_count()} cores.",
        "",
        f"`GET version` with {args.clients} concurrent keep-alive clients, {got.requests:,} "
        "requests (token checked, workspace authorized, catalog read, every request):",
        "",
        "| endpoint | p50 ms | p99 ms | req/s | errors |",
        "|---|---|---|---|---|",
        f"| `GET /healthz` (floor: HTTP stack only) | {idle.p50_ms:.1f} | {idle.p99_ms:.1f} | "
        f"{idle.rps:,.0f} | {idle.errors} |",
        f"| `GET /v1/workspaces/{{ws}}/datasets/{{ds}}/versions/1` | {got.p50_ms:.1f} | "
        f"{got.p99_ms:.1f} | {got.rps:,.0f} | {got.errors} |",
        "",
        f"p50 ratio to the floor: {got.p50_ms / idle.p50_ms:.1f}x. The load generator "
        "shares the 2 cores with the server.",
        END,
    ]


def _each(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def write_doc(lines: list[str]) -> None:
    write_section(DOC, "\n".join(lines), START, END)


if __name__ == "__main__":
    sys.exit(main())
