"""The bubblewrap command line of a sandbox, and whether this box can run one.

What the script sees is built from nothing: an empty root, then read-only binds of
the system's ``/usr`` (and the ``/lib``, ``/bin`` links or directories), a few
``/etc`` files the dynamic loader reads, the appliance's Python interpreter and
its virtual environment (so the script imports the torch, ultralytics and numpy
the appliance ships), the dataset at ``/data``, the script and its inputs under
``/job``, and its output directory at ``/out``, the only place on disk it may
write. ``/tmp`` is a small private tmpfs, ``/proc`` shows only its own processes,
``/dev`` holds only the basic devices. It gets new network, PID, IPC, UTS and
cgroup namespaces: no network at all, not even the appliance on 127.0.0.1.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import InvalidInput
from appliance.sandbox import seccomp

LAUNCHER = Path(__file__).with_name("launcher.py")
#: where things are inside the sandbox
DATA, OUT, JOB = "/data", "/out", "/job"
#: the system's directories a Python process needs, bound read-only if present
_SYSTEM_DIRS = ("/usr",)
_SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/os-release",
)


class SandboxUnavailable(InvalidInput):
    """This box cannot make the sandbox (no bubblewrap, or no namespaces for it)."""

    code = "sandbox-unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"script mode needs bubblewrap with user/network namespaces: {reason}",
            hint="install bubblewrap (`apt-get install bubblewrap`, or `make system-deps`)"
            " and allow unprivileged user namespaces (kernel.unprivileged_userns_clone=1)",
        )
        self.reason = reason


@dataclass(frozen=True)
class Layout:
    """The host paths a sandbox shows, and where.

    ``files`` are extra read-only files under ``/job`` (name → host file);
    ``writable`` are extra host directories the script may write (sandbox path →
    host dir), e.g. a config directory a library insists on writing; ``hide``
    are host paths masked with an empty tmpfs should a system bind show them (the
    appliance's data dir, were it under ``/usr``)."""

    script: Path
    output: Path
    data: Path | None = None
    files: Mapping[str, Path] = field(default_factory=dict)
    writable: Mapping[str, Path] = field(default_factory=dict)
    hide: Sequence[Path] = ()


def argv(
    layout: Layout,
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    tmp_bytes: int,
    bwrap: str = "bwrap",
    as_root: bool | None = None,
    seccomp_fd: int | None = None,
) -> list[str]:
    """The full ``bwrap ... -- command`` line. ``as_root``: the appliance runs as
    root (bwrap is then privileged: every capability is dropped except the two the
    launcher needs to become the sandbox user, which it gives up at once)."""
    root = os.geteuid() == 0 if as_root is None else as_root
    args = [
        bwrap,
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
    ]
    if root:
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user"]
        if "--disable-userns" in _help(bwrap):  # bubblewrap 0.8+: no namespaces in there
            args += ["--disable-userns"]
    for path in _SYSTEM_DIRS:
        if Path(path).is_dir():
            args += ["--ro-bind", path, path]
    for path in _SYSTEM_LINKS:
        p = Path(path)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), path]
        elif p.is_dir():
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]
    for path in _ETC_FILES:
        args += ["--ro-bind-try", path, path]
    # /tmp first: an interpreter or venv that lives under /tmp is bound on top of it
    args += ["--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    for prefix in python_roots():
        # bwrap makes missing parents private (0700): the sandbox user must get through
        for parent in reversed(prefix.parents[:-1]):
            args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", str(prefix), str(prefix)]
    args += ["--proc", "/proc", "--dev", "/dev"]
    # POSIX semaphores and shared memory (multiprocessing, data loaders) live here
    args += ["--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/dev/shm"]
    args += ["--perms", "0755", "--dir", JOB]
    if layout.data is not None:
        args += ["--ro-bind", str(layout.data), DATA]
    args += ["--ro-bind", str(LAUNCHER), f"{JOB}/launch.py"]
    args += ["--ro-bind", str(layout.script), f"{JOB}/train.py"]
    for name, file in sorted(layout.files.items()):
        args += ["--ro-bind", str(file), f"{JOB}/{name}"]
    for inside, host in sorted(layout.writable.items()):
        args += ["--bind", str(host), inside]
    args += ["--bind", str(layout.output), OUT]
    bound = [*(Path(d) for d in _SYSTEM_DIRS), *python_roots()]
    for hidden in layout.hide:
        if any(_is_within(hidden, b) for b in bound) and hidden.exists():
            args += ["--tmpfs", str(hidden)]
    args += ["--remount-ro", "/", "--chdir", OUT, "--clearenv"]
    if seccomp_fd is not None:  # the system-call filter (see ``seccomp``)
        args += ["--seccomp", str(seccomp_fd)]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    return [*args, "--", *command]


def python_roots() -> list[Path]:
    """The interpreter's installation and the virtual environment (if any), outermost
    first; bound at the same paths, so ``sys.executable`` runs as it does here."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    roots |= {Path(sys.base_exec_prefix).resolve(), Path(sys.exec_prefix).resolve()}
    system = [Path(p) for p in _SYSTEM_DIRS]
    kept = sorted(r for r in roots if not any(_is_within(r, s) for s in system))
    return [r for r in kept if not any(r != o and _is_within(r, o) for o in kept)]


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def executable() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def _help(bwrap: str) -> str:
    try:
        done = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except OSError:
        return ""
    return done.stdout + done.stderr


@functools.cache
def version(bwrap: str) -> str:
    """``bubblewrap 0.8.0``."""
    done = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10)
    return done.stdout.strip() or "bubblewrap (unknown version)"


_AVAILABLE: dict[str, str] = {}


def status() -> dict[str, Any]:
    """``{available, sandbox}`` (bubblewrap's version), or ``{available, reason, hint}``."""
    try:
        exe = check()
    except SandboxUnavailable as exc:
        return {"available": False, "reason": exc.message, "hint": exc.hint}
    return {
        "available": True,
        "sandbox": version(exe),
        "seccomp": f"{seccomp.program()[1]} system calls refused",
    }


def check() -> str:
    """The bwrap to use and its version, once a trial sandbox has run here; raises
    SandboxUnavailable saying why not. A success is remembered; a failure is
    tried again next time (bubblewrap may have been installed since)."""
    bwrap = executable()
    if bwrap is None:
        raise SandboxUnavailable("the `bwrap` command is not installed")
    if bwrap in _AVAILABLE:
        return bwrap
    try:
        fd = seccomp.readable_fd()
    except seccomp.SeccompUnavailable as exc:
        raise SandboxUnavailable(f"the system-call filter cannot be built: {exc}") from None
    try:
        with tempfile.TemporaryDirectory(prefix="ahoy-sandbox-check-") as out:
            trial = argv(
                Layout(script=LAUNCHER, output=Path(out)),
                [sys.executable, "-c", "pass"],
                env={"PATH": "/usr/bin:/bin"},
                tmp_bytes=1 << 20,
                bwrap=bwrap,
                seccomp_fd=fd,
            )
            done = subprocess.run(trial, capture_output=True, text=True, timeout=30, pass_fds=(fd,))
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"a trial sandbox did not run: {exc}") from None
    finally:
        os.close(fd)
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()
        raise SandboxUnavailable(f"a trial sandbox failed: {why[-1] if why else done.returncode}")
    _AVAILABLE[bwrap] = version(bwrap)
    return bwrap
