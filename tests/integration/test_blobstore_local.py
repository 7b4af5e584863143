"""LocalBlobStore against the BlobStore contract, plus what only a disk can do."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.adapters.blobs.local import LocalBlobStore
from appliance.errors import StorageFull
from appliance.ports.blobstore import BlobPut, BlobStats
from tests.conftest import tmpfs
from tests.integration.blobstore_contract import WS, BlobStoreContract, blob

pytestmark = pytest.mark.integration


class TestLocalBlobStore(BlobStoreContract):
    def make_store(self, tmp_path: Path) -> LocalBlobStore:
        return LocalBlobStore(tmp_path / "blobs")

    def corrupt(self, store: LocalBlobStore, workspace: str, sha256: str) -> None:  # type: ignore[override]
        path = store.root / workspace / sha256[:2] / sha256[2:]
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(raw))


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    src = tmp_path / "src"
    src.write_bytes(b"changed")
    with pytest.raises(Exception):  # noqa: B017 - BlobCorrupt, checked in the contract
        store.put_many(WS, [BlobPut(hashlib.sha256(b"x").hexdigest(), 7, path=str(src))])
    store.put_many(WS, [blob(b"fine")])
    names = [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert names == [blob(b"fine").sha256[2:]]


def test_durable_mode_stores_the_same(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs", durable=True)
    puts = [blob(os.urandom(100)) for _ in range(20)]
    assert store.put_many(WS, puts) == 20
    assert dict(store.read_many(WS, [p.sha256 for p in puts])) == {p.sha256: p.data for p in puts}


def test_sweep_partial_removes_only_old_temporaries(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put_many(WS, [blob(b"kept")])
    fan = tmp_path / "blobs" / WS / blob(b"kept").sha256[:2]
    stale, fresh = fan / ".abc.1-1.tmp", fan / ".abc.1-2.tmp"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(stale, (1, 1))
    assert store.sweep_partial(older_than_seconds=60) == 1
    assert not stale.exists() and fresh.exists()
    assert store.stats(WS) == BlobStats(1, 4)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: the only honest way to see ENOSPC. Needs root and mount."""
    with tmpfs(tmp_path / "tiny", "1m") as where:
        yield where


def test_full_disk_raises_storage_full_and_leaves_nothing_partial(tiny_disk: Path) -> None:
    store = LocalBlobStore(tiny_disk / "blobs")
    small, big = blob(os.urandom(100_000)), blob(os.urandom(2_000_000))
    with pytest.raises(StorageFull) as err:
        store.put_many(WS, [small, big])
    assert err.value.where == str(tiny_disk / "blobs")
    assert store.missing(WS, {small.sha256, big.sha256}) == {big.sha256}
    leftovers = [p for p in tiny_disk.rglob(".*.tmp")]
    assert leftovers == []
    assert store.read(WS, small.sha256) == small.data
