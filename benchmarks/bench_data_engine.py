"""Data engine benchmark: `make bench`.

Measures, on the same generated JPEGs and the same procedure for every tool:

* the physical limit: sha256 of every byte (one pass, one thread) + ``cp -r``;
* DVC: ``dvc add`` + ``git commit`` in a scratch repo, the same after adding
  files, ``dvc diff``, ``dvc checkout`` into an emptied workspace;
* ours, per blob store, through the real ``ahoy`` CLI against a real ``ahoy
  serve`` (the path users run): import+commit, recommit after adding files,
  diff, pull.

Procedure: tree A has ``--files`` JPEGs; then ``--extra`` new ones are added to
it and each tool records again. Every tool gets its own byte copy of the tree
(``cp -r``, no hardlinks, so DVC's copy into its cache is a real copy), made
before any timing; each tree is read once before its tool runs (warm cache) and
dirty pages are flushed before every timed step.

Disk gotcha: on these disks, creating files right after a mass delete is several
times slower until the freed blocks are discarded, so nothing is deleted during a
run: things are moved into ``<workdir>/trash`` and deleted once, after the report
(``--keep`` leaves them), and each round waits for the disk to settle first.
``--repeat N`` runs N rounds on fresh copies and reports the median. Results go
to the terminal, to ``<workdir>/results-*.json`` and to the data-engine section
of ``docs/benchmarks.md``. A missed target is printed, not an error: this is a
measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import shutil
import signal
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from appliance.ingest.statcache import RACY_SECONDS  # noqa: E402
from benchmarks.data_engine.common import FOLDERS, Trash, copy_tree, settle  # noqa: E402
from benchmarks.data_engine.dataset import generate  # noqa: E402
from benchmarks.data_engine.quiet import CpuMeter, wait_for_quiet  # noqa: E402
from benchmarks.data_engine.report import (  # noqa: E402
    Results,
    machine,
    markdown,
    print_report,
    revision,
    write_doc,
)
from benchmarks.data_engine.tools import (  # noqa: E402
    bench_cli,
    bench_dvc,
    bench_limit,
    dvc_available,
)

# -- main ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--files", type=int, default=None, help="files in tree A (default 10000)")
    p.add_argument("--size", type=int, default=51200, help="bytes per JPEG, about")
    p.add_argument("--extra", type=int, default=None, help="files added for the recommit (300)")
    p.add_argument("--workdir", type=Path, default=Path(".bench"), help="scratch space")
    p.add_argument("--stores", default="local,seaweedfs", help="blob stores to measure")
    p.add_argument("--skip-dvc", action="store_true", help="do not measure DVC")
    p.add_argument("--quick", action="store_true", help="smoke run: 1,000 files + 30")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds, each on fresh copies; the report takes the median",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="leave the run's trees (deleting them slows the disk for minutes)",
    )
    p.add_argument(
        "--doc",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="markdown file whose data-engine section is rewritten",
    )
    args = p.parse_args(argv)
    if args.files is None:
        args.files = 1000 if args.quick else 10000
    if args.extra is None:
        args.extra = 30 if args.quick else 300
    args.stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    return args


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so the finally blocks stop every weed we started


def disk_shortfall(args: argparse.Namespace, workdir: Path, tree_bytes: int) -> int:
    """Bytes missing for the run: each round writes about this many trees' worth."""
    trees = 2 + (3 if args.dvc else 0) + len(args.stores) * 3
    need = int(args.repeat * trees * tree_bytes * 1.2) + (1 << 30)
    return need - shutil.disk_usage(workdir).free


def one_round(args: argparse.Namespace, data: Path, run: Path, trash: Trash) -> Results:
    """Every tool once, each on its own fresh copy of the tree."""
    res, files, added = Results(), args.files, args.extra
    print(f"copying the tree for every tool into {run} (not timed)...")
    trees = {"limit": run / "limit" / "data"}
    if args.dvc:
        trees["dvc"] = run / "dvc" / "data"
    for store in args.stores:
        trees[f"cli-{store}"] = run / "trees" / f"cli-{store}"
    for dst in trees.values():
        copy_tree(data / "tree", dst)
    settle()
    # The import's stat cache never trusts files younger than RACY_SECONDS (same-tick
    # edits); a user's tree is older than that, so the fresh copies are let age.
    time.sleep(RACY_SECONDS + 0.5)
    if note := wait_for_quiet(run.parent, trash):
        res.notes.append(note)
    meter = CpuMeter()
    bench_limit(trees["limit"], run / "limit", res, files)
    if args.dvc:
        bench_dvc(run / "dvc", data / "extra", trash, res, files, added)
    for store in args.stores:
        try:
            bench_cli(store, trees[f"cli-{store}"], data / "extra", run, res, files, added)
        except Exception as exc:  # one store failing must not lose the rest
            traceback.print_exc()
            first = str(exc).splitlines()[0] if str(exc) else ""
            res.notes.append(f"{store} failed: {type(exc).__name__}: {first}")
    res.notes.append(f"round {run.name.rsplit('-', 1)[1]}: {meter.foreign()}")
    return res


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    command = shlex.join(
        ["python", "benchmarks/bench_data_engine.py", *(sys.argv[1:] if argv is None else argv)]
    )
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    trash = Trash(workdir / "trash")
    for old in workdir.glob("run-*"):  # left by --keep or a crash
        trash.move(old)
    notes: list[str] = []
    data = generate(workdir, args.files, args.size, args.extra, trash)
    args.dvc = not args.skip_dvc and dvc_available()
    if not args.skip_dvc and not args.dvc:
        print("dvc: not installed (pip install -e '.[bench]'); skipping it")
    sizes = [p.stat().st_size for p in (data / "tree").rglob("*.jpg")]
    data_desc = (
        f"{args.files:,} JPEGs + {args.extra:,} added, mean "
        f"{sum(sizes) / len(sizes):,.0f} bytes, {sum(sizes) / 1e6:,.0f} MB in "
        f"{FOLDERS} folders"
    )
    if (missing := disk_shortfall(args, workdir, sum(sizes))) > 0:
        print(
            f"error: {workdir} needs about {missing / 1e9:.1f} GB more free space for "
            f"{args.repeat} round(s) (every tree is moved aside, not deleted, until the end)"
        )
        return 2
    stamp = f"{dt.datetime.now():%Y%m%d-%H%M%S}"
    rounds: list[Results] = []
    try:
        for k in range(args.repeat):
            if args.repeat > 1:
                print(f"\n=== round {k + 1} of {args.repeat}")
            run = workdir / f"run-{stamp}-{k + 1}"
            try:
                rounds.append(one_round(args, data, run, trash))
            finally:
                if not args.keep and run.exists():
                    trash.move(run)  # deleted at the very end, never between steps
    finally:
        res = Results.median(rounds) if rounds else Results()
        res.notes = notes + res.notes
        if args.repeat > 1:
            res.notes.append(
                f"{len(rounds)} rounds: seconds are the median round of each "
                "step; ratios and targets are taken within each round, then the "
                "median"
            )
        print_report(res)
        if res.rows:
            (workdir / f"results-{stamp}.json").write_text(
                json.dumps(
                    {
                        "command": command,
                        "date": dt.datetime.now().astimezone().isoformat(),
                        "code": revision(),
                        "machine": machine(workdir),
                        "data": data_desc,
                        "rows": [asdict(r) for r in res.rows],
                        "notes": res.notes,
                        "rounds": [[asdict(r) for r in x.rows] for x in rounds],
                    },
                    indent=1,
                )
            )
            write_doc(args.doc, markdown(res, command, workdir, data_desc))
            print(f"\nwrote {args.doc}")
        if not args.keep:
            print("deleting the trash...")
            trash.empty()
    return 0


if __name__ == "__main__":
    sys.exit(main())
