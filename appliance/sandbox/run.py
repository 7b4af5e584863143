"""Run a command in the sandbox under limits, and tell how it ended.

The kernel enforces what it can per process (set by the launcher, hard and soft
alike): heap and other private memory (``RLIMIT_DATA``), CPU seconds, the size of
any one file, open files, and the number of processes and threads. The
supervisor here enforces what is about the whole sandbox: wall-clock time, the
memory of all its processes together, and the total size of its output
directory; it kills the sandbox's process group when one is exceeded and names
the limit. Output lines reach ``on_line`` as they come (long lines are cut).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from appliance.sandbox import bwrap, seccomp
from appliance.sandbox.launcher import EXIT_MEMORY, EXIT_SETUP

MIB = 1 << 20
GIB = 1 << 30
#: how often the supervisor measures memory and output size
POLL_SECONDS = 0.25
LINE_MAX = 4096
#: the user the script runs as when the appliance runs as root (nobody)
NOBODY = 65534

TIME, MEMORY, CPU, FILE_SIZE, OUTPUT_SIZE = "time", "memory", "cpu", "file-size", "output-size"


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use."""

    cpu_cores: int = 1
    ram_bytes: int = 2 * GIB
    timeout_s: float = 3600.0
    #: the output directory's total size, and so the largest file
    output_bytes: int = 2 * GIB
    tmp_bytes: int = 256 * MIB
    #: processes and threads together (torch starts a thread per core)
    processes: int = 256
    open_files: int = 1024

    def rlimits(self) -> dict[str, tuple[int, int]]:
        """What the launcher sets (soft, hard). CPU time: the cores for the whole
        wall-clock budget, so it only stops a process that spins past it."""
        cpu = int(self.cpu_cores * self.timeout_s) + 5
        return {
            "RLIMIT_DATA": (self.ram_bytes, self.ram_bytes),
            "RLIMIT_CPU": (cpu, cpu + 5),
            "RLIMIT_FSIZE": (self.output_bytes, self.output_bytes),
            "RLIMIT_NOFILE": (self.open_files, self.open_files),
            "RLIMIT_NPROC": (self.processes, self.processes),
            "RLIMIT_CORE": (0, 0),
        }

    def describe(self, limit: str) -> str:
        return {
            TIME: f"the time limit ({self.timeout_s:g} s)",
            MEMORY: f"the memory limit ({_size(self.ram_bytes)})",
            CPU: f"the CPU time limit ({int(self.cpu_cores * self.timeout_s) + 5} s)",
            FILE_SIZE: f"the file size limit ({_size(self.output_bytes)})",
            OUTPUT_SIZE: f"the output size limit ({_size(self.output_bytes)} in /out)",
        }[limit]


@dataclass(frozen=True)
class Outcome:
    """``exit_code`` is the script's (128 + N when signal N ended it); ``limit``
    names the limit that stopped it, if one did."""

    exit_code: int
    limit: str | None
    seconds: float
    peak_memory: int

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.limit is None

    @property
    def setup_failed(self) -> bool:
        """The launcher could not set the limits or give up root (nothing ran)."""
        return self.exit_code == EXIT_SETUP


LineCallback = Callable[[str], Awaitable[None]]
StartCallback = Callable[[int], Awaitable[None]]


async def run(
    layout: bwrap.Layout,
    limits: Limits,
    *,
    env: Mapping[str, str],
    on_line: LineCallback,
    on_start: StartCallback | None = None,
    argv: Sequence[str] = (),
    uid: int = NOBODY,
) -> Outcome:
    """Run ``/job/train.py`` (``layout.script``) in a sandbox. ``on_start`` gets the
    process group id (record it: killing that group ends everything inside);
    ``uid`` is who the script runs as when the appliance runs as root."""
    exe = bwrap.check()
    config = {"rlimits": limits.rlimits(), "uid": uid, "gid": uid, "argv": list(argv)}
    command = [sys.executable, f"{bwrap.JOB}/launch.py", json.dumps(config)]
    filter_fd = seccomp.readable_fd()
    full = bwrap.argv(
        layout, command, env=env, tmp_bytes=limits.tmp_bytes, bwrap=exe, seccomp_fd=filter_fd
    )
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *full,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={},
            start_new_session=True,
            pass_fds=(filter_fd,),
        )
    finally:
        os.close(filter_fd)
    watch = _Watch(proc.pid, limits, layout.output)
    try:
        if on_start is not None:
            await on_start(proc.pid)
        assert proc.stdout is not None
        reader = asyncio.create_task(_read_lines(proc.stdout, on_line))
        watcher = asyncio.create_task(watch.run(started))
        code = await proc.wait()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await reader
    finally:
        if proc.returncode is None:
            _kill(proc.pid)
            await proc.wait()
    return Outcome(
        exit_code=code,
        limit=watch.limit or _limit_of(code),
        seconds=round(time.monotonic() - started, 3),
        peak_memory=watch.peak_memory,
    )


def _limit_of(code: int) -> str | None:
    return {
        EXIT_MEMORY: MEMORY,
        128 + signal.SIGXCPU: CPU,
        128 + signal.SIGXFSZ: FILE_SIZE,
    }.get(code)


class _Watch:
    """Wall clock, memory of the whole process tree, size of the output dir."""

    def __init__(self, pid: int, limits: Limits, output: Path) -> None:
        self.pid = pid
        self.limits = limits
        self.output = output
        self.limit: str | None = None
        self.peak_memory = 0

    async def run(self, started: float) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(POLL_SECONDS)
            ticks += 1
            if time.monotonic() - started > self.limits.timeout_s:
                return self._stop(TIME)
            memory = await asyncio.to_thread(_tree_memory, self.pid)
            self.peak_memory = max(self.peak_memory, memory)
            if memory > self.limits.ram_bytes:
                return self._stop(MEMORY)
            if ticks % 4 == 0:
                size = await asyncio.to_thread(_tree_size, self.output)
                if size > self.limits.output_bytes:
                    return self._stop(OUTPUT_SIZE)

    def _stop(self, limit: str) -> None:
        self.limit = limit
        _kill(self.pid)


def _kill(pgid: int) -> None:
    """The sandbox's process group: bwrap; everything inside dies with it (its PID
    namespace ends when its init does)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _tree_memory(pid: int) -> int:
    """Proportional set size of the sandbox's processes (shared pages counted once
    across them, so forked data loaders are not counted twice); RSS if PSS cannot
    be read."""
    total = 0
    try:
        procs = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except psutil.AccessDenied:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def _tree_size(root: Path) -> int:
    total = 0
    stack = [root]
    while stack:
        with contextlib.suppress(OSError), os.scandir(stack.pop()) as it:
            for entry in it:
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
                    else:
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
    return total


async def _read_lines(stream: asyncio.StreamReader, on_line: LineCallback) -> None:
    """Lines as they come, each cut at LINE_MAX characters (a script may print a
    line with no end)."""
    pending = b""
    while chunk := await stream.read(1 << 16):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            await on_line(raw[:LINE_MAX].decode("utf-8", "replace").rstrip("\r"))
        if len(pending) > LINE_MAX:
            await on_line(pending[:LINE_MAX].decode("utf-8", "replace"))
            pending = b""
    if pending:
        await on_line(pending[:LINE_MAX].decode("utf-8", "replace"))


def _size(n: int) -> str:
    return f"{n / GIB:g} GiB" if n >= GIB else f"{n / MIB:g} MiB"
