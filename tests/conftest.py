"""Shared fixtures: real SQLite files and real blob stores in tmp dirs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import random
import subprocess
import tarfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from appliance.bootstrap import open_services
from appliance.domain.records import StageResult
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
        """A tree of ``count`` random files, staged into a new dataset and committed
        as version 1; returns name → sha256."""
        from appliance.services import datasets, versions

        digests = make_tree(src, count, **tree)
        self(datasets.create, dataset, "me")
        self(stage_files, dataset, read_tree(src), "me")
        self(versions.commit, dataset, "v1", "me")
        return digests

    def blob_count(self) -> int:
        return self.with_ctx(_count(self.ws))


async def stage_files(
    ctx: ServiceContext, ws: str, dataset: str, files: dict[str, bytes], actor: str
) -> StageResult:
    """Put ``files`` (name → bytes) in a dataset's working area through the services
    the upload routes call: the blobs as one tar (``POST .../blobs``), then the names
    (``POST .../working/files``). For tests that need data in a store; the upload
    itself (scan, hash, negotiate, send) is the SDK's, tested end to end."""
    from appliance.services import staging, uploads

    blobs = {hashlib.sha256(data).hexdigest(): data for data in files.values()}
    body = io.BytesIO()
    with tarfile.open(fileobj=body, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for sha, data in blobs.items():
            info = tarfile.TarInfo(sha)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    budget = await uploads.budget_for(ctx, ws, body.tell())
    body.seek(0)
    await uploads.receive_tar(ctx, ws, body, budget)
    entries = [
        staging.Entry(name, hashlib.sha256(data).hexdigest(), len(data))
        for name, data in files.items()
    ]
    return await staging.stage_uploaded(ctx, ws, dataset, entries, actor)


def read_tree(root: Path) -> dict[str, bytes]:
    """name → bytes of every file under root."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


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
