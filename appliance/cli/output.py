"""Everything the CLI prints goes through here: tables for people, JSON for scripts,
progress bars on stderr, and errors in one shape."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from appliance.domain.wording import size
from appliance.errors import ApplianceError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def local_time(ts: Any) -> str:
    """A Unix time as local date and time; anything else as it is."""
    if isinstance(ts, int | float):
        return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
    return str(ts or "")


def cell(value: Any) -> str:
    """One value for a person: ``-`` for none, yes/no for a flag, else its text."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str) -> None:
    """Rows under a header line, each column as wide as its widest cell (ids are
    never cut short, however narrow the terminal); ``empty`` when there are none."""
    texts = [[cell(v) for v in row] for row in rows]
    if not texts:
        out.print(empty, markup=False)
        return
    t = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold", highlight=False)
    for h in headers:
        t.add_column(h, no_wrap=True)
    for row in texts:
        t.add_row(*(Text(v) for v in row))
    natural = Measurement.get(out, out.options.update_width(1 << 16), t).maximum
    wide = Console(
        file=out.file,
        width=max(natural, out.width),
        force_terminal=out.is_terminal,
        no_color=out.no_color,
        highlight=False,
    )
    with wide.capture() as captured:
        wide.print(t)
    out.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))


def value_text(key: str, value: Any) -> str:
    """A result's value by what its key says it is: ``*_at`` a time, ``*bytes`` a size."""
    if isinstance(value, bool) or value is None:
        return cell(value)
    if isinstance(value, int | float) and key.endswith("_at"):
        return local_time(value)
    if isinstance(value, int | float) and key.endswith("bytes"):
        return size(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {value_text(str(k), v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        if not value:
            return "none"
        shown = [value_text(key, v) for v in value[:8]]
        more = f", … ({len(value) - 8} more)" if len(value) > 8 else ""
        return ("; " if any(isinstance(v, Mapping) for v in value) else ", ").join(shown) + more
    return str(value)


#: An underscore between words (reclaimed_blobs), not between digits (map50_95).
_UNDERSCORE = re.compile(r"(?<!\d)_|_(?!\d)")


def result_lines(result: Mapping[str, Any], indent: str = "  ") -> list[str]:
    """A job's result (or any record) as aligned ``label  value`` lines; a nested
    record indents under its label."""
    if not result:
        return []
    width = max(len(str(k)) for k in result)
    lines: list[str] = []
    for key, value in result.items():
        label = _UNDERSCORE.sub(" ", str(key))
        if isinstance(value, Mapping) and value:
            lines.append(f"{indent}{label}:")
            lines += result_lines(value, indent + "  ")
        else:
            lines.append(f"{indent}{label:{width}}  {value_text(str(key), value)}")
    return lines


def print_lines(lines: Iterable[str]) -> None:
    for line in lines:
        out.print(line, markup=False)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


def emit_error(exc: ApplianceError, as_json: bool) -> None:
    """One shape for local errors and the appliance's problem+json answers."""
    status = getattr(exc, "status", None)  # an sdk ApiError: the HTTP status
    if as_json:
        body: dict[str, Any] = {"code": exc.code, "message": exc.message, "hint": exc.hint}
        if status:
            body["status"] = status
        problems = getattr(exc, "problem", {}).get("problems")
        if problems:
            body["problems"] = problems
        emit_json({"error": body})
    else:
        err.print(f"[bold red]error:[/] {escape(exc.message)}", markup=True)
        if exc.hint:
            err.print(f"[yellow]hint:[/] {escape(exc.hint)}", markup=True)


class JobBar:
    """Shows a job's ``{done, total, unit}`` progress events as a bar."""

    def __init__(self, enabled: bool, stage: str) -> None:
        self.bar = BarProgress(enabled)
        self.stage = stage
        self.done = 0
        self.started = False

    def __call__(self, progress: Any) -> None:
        total, done = int(progress.get("total") or 0), int(progress.get("done") or 0)
        if not self.started and total:
            self.bar.start(self.stage, total, str(progress.get("unit") or "items"))
            self.started = True
        if done > self.done:
            self.bar.advance(done - self.done)
            self.done = done

    def finish(self) -> None:
        self.bar.finish()


class BarProgress:
    """A rich progress bar on stderr that satisfies services.progress.Progress."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and err.is_terminal
        self._bar: Progress | None = None
        self._task: Any = None

    def start(self, stage: str, total: int, unit: str = "files") -> None:
        if not self.enabled:
            return
        columns = [TextColumn(f"{stage:>8}"), BarColumn()]
        if unit == "bytes":
            columns += [DownloadColumn(), TransferSpeedColumn()]
        else:
            columns += [MofNCompleteColumn()]
        self._bar = Progress(*columns, TimeRemainingColumn(), console=err, transient=True)
        self._bar.start()
        self._task = self._bar.add_task(stage, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
