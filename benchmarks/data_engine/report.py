"""Results, ratios, targets, and the docs/benchmarks.md section."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.data_engine.common import DOC_END, DOC_START, ROOT, TARGETS, sh


@dataclass
class Row:
    tool: str
    step: str
    seconds: float
    files: int
    note: str = ""
    samples: list[float] = field(default_factory=list)  # every round's seconds

    @property
    def rate(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0


class Results:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.rounds: list[Results] = []  # set on a median of several rounds

    def add(self, tool: str, step: str, seconds: float, files: int, note: str = "") -> None:
        row = Row(tool, step, seconds, files, note, [seconds])
        self.rows.append(row)
        rate = f"{row.rate:9,.0f} files/s" if files else " " * 17
        extra = f"  ({note})" if note else ""
        print(f"  {tool:22} {step:18} {seconds:8.3f} s  {rate}{extra}", flush=True)

    def get(self, tool: str, step: str) -> Row | None:
        return next((r for r in self.rows if r.tool == tool and r.step == step), None)

    @staticmethod
    def median(rounds: list[Results]) -> Results:
        """Per step, the round with the median time (its note too); all times kept."""
        out = Results()
        keys = dict.fromkeys((r.tool, r.step) for res in rounds for r in res.rows)
        for tool, step in keys:
            rows = sorted(
                (r for res in rounds if (r := res.get(tool, step))), key=lambda r: r.seconds
            )
            mid = rows[(len(rows) - 1) // 2]
            out.rows.append(
                Row(
                    tool,
                    step,
                    mid.seconds,
                    mid.files,
                    mid.note,
                    [r.seconds for res in rounds if (r := res.get(tool, step))],
                )
            )
        out.notes = list(dict.fromkeys(n for res in rounds for n in res.notes))
        out.rounds = rounds
        return out


# -- report ----------------------------------------------------------------------------


def _per_round(res: Results, measure: Callable[[Results], float | None]) -> float | None:
    """A ratio taken inside each round, then the median: rounds run minutes apart on
    a noisy VM, and a ratio of two medians could pair a fast round with a slow one."""
    values = [v for r in (res.rounds or [res]) if (v := measure(r)) is not None]
    return statistics.median(values) if values else None


def _vs_dvc(tool: str, step: str) -> Callable[[Results], float | None]:
    def measure(res: Results) -> float | None:
        ours, dvc = res.get(tool, step), res.get("dvc", step)
        return dvc.seconds / ours.seconds if ours and dvc and ours.seconds else None

    return measure


def _vs_limit(tool: str, step: str) -> Callable[[Results], float | None]:
    def measure(res: Results) -> float | None:
        ours, limit = res.get(tool, step), res.get("limit", "hash+copy")
        return ours.rate / limit.rate if ours and limit and limit.rate else None

    return measure


def _of_first(tool: str) -> Callable[[Results], float | None]:
    def measure(res: Results) -> float | None:
        first, again = res.get(tool, "import+commit"), res.get(tool, "recommit")
        return again.seconds / first.seconds if first and again and first.seconds else None

    return measure


def table(res: Results) -> list[list[str]]:
    spread = any(len(r.samples) > 1 for r in res.rows)
    rows = [
        [
            "tool",
            "step",
            "files",
            "seconds",
            *(["min-max"] if spread else []),
            "files/s",
            "vs DVC",
            "vs limit",
        ]
    ]
    for r in res.rows:
        x = _per_round(res, _vs_dvc(r.tool, r.step)) if r.tool != "dvc" else None
        pct = (
            _per_round(res, _vs_limit(r.tool, r.step))
            if r.step in ("import+commit", "pull")
            else None
        )
        span = [f"{min(r.samples):.3f}-{max(r.samples):.3f}"] if spread else []
        rows.append(
            [
                r.tool,
                r.step,
                f"{r.files:,}",
                f"{r.seconds:.3f}",
                *span,
                f"{r.rate:,.0f}" if r.files else "",
                "" if x is None else f"{x:.2f}x",
                "" if pct is None else f"{100 * pct:.0f} %",
            ]
        )
    return rows


def targets(res: Results) -> list[tuple[str, str, str, bool | None]]:
    """(tool, target, measured, passed); passed is None where it cannot be judged."""
    out: list[tuple[str, str, str, bool | None]] = []
    for tool in dict.fromkeys(r.tool for r in res.rows if r.tool.startswith("ahoy")):
        if res.get(tool, "import+commit") is None:
            continue
        x = _per_round(res, _vs_dvc(tool, "import+commit"))
        out.append(
            (tool, TARGETS[0], "DVC not measured", None)
            if x is None
            else (tool, TARGETS[0], f"{x:.2f}x", x >= 3.0)
        )
        if (pct := _per_round(res, _vs_limit(tool, "import+commit"))) is not None:
            out.append((tool, TARGETS[1], f"{100 * pct:.1f} %", pct >= 0.5))
        if (share := _per_round(res, _of_first(tool))) is not None:
            out.append((tool, TARGETS[2], f"{100 * share:.1f} %", share <= 0.1))
        if diff := res.get(tool, "diff"):
            out.append((tool, TARGETS[3], f"{diff.seconds:.3f} s", diff.seconds < 0.5))
    return out


def print_report(res: Results) -> None:
    rows = table(res)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    for n, r in enumerate(rows):
        print(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for tool, target, got, ok in targets(res):
        verdict = "n/a " if ok is None else "PASS" if ok else "MISS"
        print(f"{verdict}  {tool:22} {target:44} measured {got}")
    for note in res.notes:
        print(f"note: {note}")


def mount_of(path: Path) -> tuple[str, str, str]:
    """(mount point, file system type, device) of the mount holding ``path``."""
    real, best = os.path.realpath(path), ("", "?", "?")
    with contextlib.suppress(OSError), open("/proc/mounts") as fh:
        for line in fh:
            device, mount, kind = line.split()[:3]
            inside = real == mount or real.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) >= len(best[0]):
                best = (mount, kind, device)
    return best


def fs_type(path: Path) -> str:
    return mount_of(path)[1]


def machine(workdir: Path) -> str:
    cpu, mem = platform.processor() or "?", "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), cpu)
    with contextlib.suppress(OSError, StopIteration, ValueError), open("/proc/meminfo") as fh:
        kib = int(next(ln for ln in fh if ln.startswith("MemTotal")).split()[1])
        mem = f"{kib / 2**20:.1f} GiB"
    return (
        f"nproc {os.cpu_count()}, RAM {mem}, CPU {cpu}, Python {platform.python_version()},"
        f" Linux {platform.release()}, work dir on {fs_type(workdir)}"
    )


def revision() -> str:
    """The commit measured, and whether the product code differed from it."""
    try:
        head = sh(["git", "rev-parse", "--short", "HEAD"], ROOT).strip()
        dirty = sh(["git", "status", "--porcelain", "--", "appliance"], ROOT).strip()
    except (OSError, RuntimeError):
        return "unknown"
    return f"{head} with uncommitted changes in appliance/" if dirty else head


def markdown(res: Results, command: str, workdir: Path, data: str) -> str:
    rows = table(res)
    lines = [
        DOC_START,
        "## Data engine",
        "",
        f"Command: `{command}`  ",
        f"Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}  ",
        f"Code: {revision()}  ",
        f"Machine: {machine(workdir)}  ",
        f"Data: {data}",
        "",
        "Procedure: every tool gets its own `cp -r` copy of the tree, read once before its",
        "first step (warm cache), dirty pages flushed before each step; after the first",
        "import+commit the extra files are added to the tree and each tool records again.",
        "`ahoy CLI/<store>` runs the real command against a real `ahoy serve`, one process",
        "per command. *vs DVC* is DVC's time over ours for the same step; *vs limit* is",
        "files/s over the files/s of sha256 of every byte + `cp -r`.",
        "",
        "Read the min-max column before any single figure: on this small shared VM the",
        "same `cp -r` has varied 5x between rounds minutes apart, even with idle CPUs and",
        "no pending discards. `--repeat N` reports the median round; ratios and targets",
        "are taken within each round, then the median.",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * (len(rows[0]) - 2)) + "|",
        *("| " + " | ".join(r) + " |" for r in rows[1:]),
        "",
        "Step details:",
        "",
        *(f"- {r.tool} {r.step}: {r.note}" for r in res.rows if r.note),
        "",
        "Targets (from the issue):",
        "",
        "| tool | target | measured | |",
        "|---|---|---:|---|",
    ]
    for tool, target, got, ok in targets(res):
        lines.append(
            f"| {tool} | {target} | {got} | {'n/a' if ok is None else 'PASS' if ok else 'MISS'} |"
        )
    if res.notes:
        lines += ["", *(f"- {n}" for n in res.notes)]
    lines.append(DOC_END)
    return "\n".join(lines) + "\n"


def write_doc(doc: Path, section: str, start: str = DOC_START, end: str = DOC_END) -> None:
    """Replace the part of ``doc`` between the ``start`` and ``end`` markers with
    ``section`` (which carries both), or append it: each benchmark owns its part."""
    text = (
        doc.read_text()
        if doc.exists()
        else (
            "# Benchmarks\n\nEach section is rewritten by the benchmark that measures it; "
            "edit the script, not the figures.\n\n"
        )
    )
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section.rstrip("\n") + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
