"""Shared fixtures: real SQLite files and real blob stores in tmp dirs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from appliance.bootstrap import open_services
from appliance.services.context import ServiceContext
from appliance.settings import Settings

T = TypeVar("T")


class Engine:
    """Runs service calls the way an edge does: open services, call, close."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ws = settings.workspace

    def __call__(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        async def main() -> T:
            async with open_services(self.settings) as ctx:
                return await fn(ctx, self.ws, *args, **kwargs)

        return asyncio.run(main())

    def with_ctx(self, fn: Callable[[ServiceContext], Awaitable[T]]) -> T:
        async def main() -> T:
            async with open_services(self.settings) as ctx:
                return await fn(ctx)

        return asyncio.run(main())

    def seed(self, src: Path, count: int, dataset: str = "ds", **tree: Any) -> dict[str, str]:
        """A tree of ``count`` random files, imported into a new dataset and
        committed as version 1; returns name → sha256."""
        from appliance.services import datasets, importing, versions

        digests = make_tree(src, count, **tree)
        self(datasets.create, dataset, "me")
        self(importing.import_tree, dataset, src, "me")
        self(versions.commit, dataset, "v1", "me")
        return digests

    def blob_count(self) -> int:
        return self.with_ctx(_count(self.ws))


def _count(ws: str) -> Callable[[ServiceContext], Awaitable[int]]:
    async def count(ctx: ServiceContext) -> int:
        return ctx.blobs.stats(ws).count

    return count


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", blob_store="local")


@pytest.fixture
def engine(local_settings: Settings) -> Engine:
    return Engine(local_settings)


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real, tiny tmpfs mounted at ``where``: the honest way to see ENOSPC.
    Skips the test where mounting is not allowed (it needs root)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def make_tree(
    root: Path, count: int, size: int = 2048, seed: int = 0, start: int = 0
) -> dict[str, str]:
    """``count`` files of random bytes in nested folders; returns name → sha256."""
    rng = random.Random(seed)
    out: dict[str, str] = {}
    for i in range(start, start + count):
        name = f"d{i % 7}/sub{i % 3}/img_{i:05d}.jpg"
        data = rng.randbytes(size)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        out[name] = hashlib.sha256(data).hexdigest()
    return out


def tree_digests(root: Path) -> dict[str, str]:
    """name → sha256 of every file under root (what a byte-for-byte check compares)."""
    result = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            result[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return result


def pulled_digests(root: Path) -> dict[str, str]:
    """``tree_digests`` of a pull's files: without the ``.ahoy/`` folder (manifest,
    label documents) a pull writes beside them."""
    return {k: v for k, v in tree_digests(root).items() if not k.startswith(".ahoy/")}


TRACEBACK = "Traceback (most recent call last)"


def assert_no_server_tracebacks(log: Path) -> None:
    """A server-side traceback in any test run is a failure: the appliance answers
    every request, and ends every job, without one reaching its log."""
    text = log.read_text(errors="replace") if log.exists() else ""
    if TRACEBACK not in text:
        return
    start = text.index(TRACEBACK)
    excerpt = text[max(0, start - 400) : start + 3000]
    raise AssertionError(f"the server logged a traceback ({log}):\n{excerpt}")
