"""Shared constants and shell plumbing of the data-engine benchmark."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout


BIN = Path(sys.executable).parent
GEN_VERSION = 1  # bump when the generator changes, so cached trees are remade
FOLDERS = 16
SLUG = "bench"
LAST_DELETE = "last-delete"
# After a mass delete this disk discards the freed blocks, and creating files is
# 3-25x slower until it is done (measured: cp -r of the tree 1.1 s quiet, 5.0 s
# right after deleting 1 GB, normal again within a minute); and on 2 cores any
# other job shows in every figure. So a round starts only once the disk has issued
# no discard and the CPUs have been under BUSY_SHARE busy for QUIET s, and our own
# last delete is DELETE_COOLDOWN s old, waiting at most SETTLE_LIMIT s.
QUIET, BUSY_SHARE, DELETE_COOLDOWN, SETTLE_LIMIT = 15.0, 0.2, 90.0, 600.0
DOC_START = "<!-- bench:data-engine:start -->"
DOC_END = "<!-- bench:data-engine:end -->"
TARGETS = (  # from the issue
    "import+commit >= 3x DVC",
    "import+commit >= 50 % of hash+copy limit",
    "recommit <= 10 % of first commit",
    "diff < 0.5 s",
)


# -- plumbing ------------------------------------------------------------------------


class Trash:
    """Moves things aside now, deletes them at the end (mass deletes slow the disk)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0

    def move(self, path: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.count += 1
        os.replace(path, self.root / f"{time.time_ns()}-{self.count}-{path.name}")

    def empty(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
            (self.root.parent / LAST_DELETE).write_text(str(time.time()))

    def since_delete(self) -> float | None:
        with contextlib.suppress(OSError, ValueError):
            return time.time() - float((self.root.parent / LAST_DELETE).read_text())
        return None


Arg = str | Path


def sh(cmd: list[Arg], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(map(str, cmd))} exited {proc.returncode}:\n"
            f"{(proc.stderr or proc.stdout)[-2000:]}"
        )
    return proc.stdout


def timed_sh(
    cmd: list[Arg], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[str, float]:
    t0 = time.perf_counter()
    out = sh(cmd, cwd, env)
    return out, time.perf_counter() - t0


def copy_tree(src: Path, dst: Path) -> None:
    """A byte copy (``cp -r``): no hardlinks, no reflinks shared with the source."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    sh(["cp", "-r", src, dst])


def merge_tree(src: Path, dst: Path) -> None:
    sh(["cp", "-r", f"{src}/.", dst])


def warm(tree: Path) -> int:
    """Read every file once so every tool starts from a warm page cache."""
    n = 0
    for dirpath, _, names in os.walk(tree):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as fh:
                while fh.read(1 << 20):
                    pass
            n += 1
    return n


def settle() -> None:
    """Flush dirty pages so one step's writeback is not billed to the next."""
    os.sync()


def count_files(tree: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(tree))


def bench_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AHOY_")}
    env.update(
        DVC_NO_ANALYTICS="1",
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@localhost",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@localhost",
    )
    return env
