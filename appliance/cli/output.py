"""Everything the CLI prints goes through here: tables for people, JSON for scripts,
progress bars on stderr, and errors in one shape."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from appliance.errors import ApplianceError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def local_time(ts: Any) -> str:
    """A Unix time as local date and time; anything else as it is."""
    if isinstance(ts, int | float):
        return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
    return str(ts or "")


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
