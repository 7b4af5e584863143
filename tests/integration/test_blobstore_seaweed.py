"""SeaweedBlobStore against the BlobStore contract, on a real ``weed``, plus crash
safety, compaction, sweeping, index rebuild and the server's lifecycle."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from appliance.adapters.blobs.seaweed import SeaweedBlobStore
from appliance.adapters.seaweed.process import WeedServer
from appliance.errors import BlobStoreUnavailable, ServiceFailed, StorageFull
from appliance.ports.blobstore import BlobStats
from tests.integration.blobstore_contract import WS, BlobStoreContract, blob, randoms

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def fresh_root() -> str:
    return f"/ahoy-test/{uuid.uuid4().hex}"


def filer_objects(server_url: str, root: str, ws: str = WS) -> dict[str, int]:
    """Every object under the store's packs/ and loose/ folders: path → size."""
    found: dict[str, int] = {}
    for kind in ("packs", "loose"):
        r = requests.get(f"{server_url}{root}/{ws}/{kind}/", headers={"Accept": "application/json"})
        if r.status_code == 404:
            continue
        for e in r.json().get("Entries") or ():
            found[e["FullPath"]] = int(e["FileSize"])
    return found


class TestSeaweedBlobStore(BlobStoreContract):
    @pytest.fixture(autouse=True)
    def _server(self, weed_server: WeedServer) -> None:
        self.server = weed_server

    def make_store(self, tmp_path: Path) -> SeaweedBlobStore:
        # Small packs, so that even the contract's few blobs span several packs.
        return SeaweedBlobStore(
            self.server.filer_url, tmp_path / "index.sqlite", root=fresh_root(), pack_bytes=1 << 20
        )

    def corrupt(self, store: SeaweedBlobStore, workspace: str, sha256: str) -> None:  # type: ignore[override]
        loc = store._index.locate(workspace, [sha256])[sha256]
        url = self.server.filer_url + loc.path
        raw = bytearray(requests.get(url).content)
        raw[loc.offset + loc.size // 2] ^= 0xFF
        requests.put(url, data=bytes(raw)).raise_for_status()


@pytest.fixture
def store(weed_server: WeedServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SeaweedBlobStore(
        weed_server.filer_url, tmp_path / "index.sqlite", root=fresh_root(), pack_bytes=64 << 10
    )
    yield s
    s.close()


def test_small_blobs_are_packed(store: SeaweedBlobStore, weed_server: WeedServer) -> None:
    puts = [blob(d) for d in randoms(400, 2000)]  # 800 KB in 64 KiB packs
    assert store.put_many(WS, puts) == 400
    objects = filer_objects(weed_server.filer_url, store.root)
    assert 10 <= len(objects) <= 16
    assert all(p.endswith(".pack") for p in objects)


@pytest.mark.parametrize("round_", range(3))
def test_index_rows_always_point_at_whole_bytes_after_kill_9(
    weed_server: WeedServer, tmp_path: Path, round_: int
) -> None:
    """A writer killed at a random moment: mid-pack, mid-upload or mid-commit."""
    root, index = fresh_root(), tmp_path / "index.sqlite"
    child = textwrap.dedent(f"""
        import hashlib, os
        from pathlib import Path
        from appliance.adapters.blobs.seaweed import SeaweedBlobStore
        from appliance.ports.blobstore import BlobPut
        store = SeaweedBlobStore({weed_server.filer_url!r}, Path({str(index)!r}),
                                 root={root!r}, pack_bytes=256 << 10, upload_workers=3)
        def forever():
            while True:
                data = os.urandom(20_000)
                yield BlobPut(hashlib.sha256(data).hexdigest(), len(data), data=data)
        store.put_many({WS!r}, forever())
    """)
    want = random.randint(8, 30)
    proc = subprocess.Popen([sys.executable, "-c", child], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        packs = 0
        while packs < want and time.monotonic() < deadline:
            time.sleep(0.02)
            assert proc.poll() is None, "the writer died on its own"
            packs = _count_objects(index)
        assert packs >= want
        time.sleep(random.random() * 0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    store = SeaweedBlobStore(weed_server.filer_url, index, root=root)
    try:
        with sqlite3.connect(index) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        listed = [b.sha256 for b in store.list_blobs(WS)]
        assert len(listed) >= want * 10
        got = dict(store.read_many(WS, listed))  # verifies every hash
        assert set(got) == set(listed)
        indexed = store._index.object_paths()
        on_filer = set(filer_objects(weed_server.filer_url, root))
        assert indexed <= on_filer
        assert store.sweep_unindexed(older_than_seconds=0) == len(on_filer - indexed)
        assert set(filer_objects(weed_server.filer_url, root)) == indexed
        assert store.stats(WS).count == len(listed)
        assert dict(store.read_many(WS, listed)) == got
    finally:
        store.close()


def _count_objects(index: Path) -> int:
    try:
        with sqlite3.connect(index) as db:
            return int(db.execute("SELECT count(*) FROM objects").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_compaction_reclaims_space_and_keeps_the_rest(
    weed_server: WeedServer, tmp_path: Path
) -> None:
    store = SeaweedBlobStore(
        weed_server.filer_url,
        tmp_path / "index.sqlite",
        root=fresh_root(),
        pack_bytes=64 << 10,
        auto_compact=False,
    )
    try:
        puts = [blob(d) for d in randoms(300, 4000)]
        store.put_many(WS, puts)
        before = filer_objects(weed_server.filer_url, store.root)
        doomed = [p for i, p in enumerate(puts) if i % 4 != 0]  # 75 % of every pack
        kept = [p for i, p in enumerate(puts) if i % 4 == 0]
        assert store.delete_many(WS, [p.sha256 for p in doomed]) == 4000 * len(doomed)
        assert filer_objects(weed_server.filer_url, store.root) == before  # nothing moved yet

        reclaimed = store.compact(min_live_ratio=0.5)
        after = filer_objects(weed_server.filer_url, store.root)
        assert reclaimed == sum(before.values()) - sum(after.values())
        assert reclaimed > 0.6 * 4000 * 300
        assert len(after) < len(before)
        assert dict(store.read_many(WS, [p.sha256 for p in kept])) == {
            p.sha256: p.data for p in kept
        }
        assert store.stats(WS) == BlobStats(len(kept), 4000 * len(kept))
        assert store.missing(WS, {p.sha256 for p in doomed}) == {p.sha256 for p in doomed}
        assert store.compact(min_live_ratio=0.5) == 0  # nothing sparse is left
    finally:
        store.close()


def test_delete_many_compacts_by_itself(store: SeaweedBlobStore, weed_server: WeedServer) -> None:
    puts = [blob(d) for d in randoms(100, 4000)]
    store.put_many(WS, puts)
    before = sum(filer_objects(weed_server.filer_url, store.root).values())
    store.delete_many(WS, [p.sha256 for p in puts[:80]])
    after = sum(filer_objects(weed_server.filer_url, store.root).values())
    assert after < 0.4 * before
    assert dict(store.read_many(WS, [p.sha256 for p in puts[80:]])) == {
        p.sha256: p.data for p in puts[80:]
    }


def test_deleting_every_blob_of_an_object_deletes_the_object(
    store: SeaweedBlobStore, weed_server: WeedServer
) -> None:
    big = blob(os.urandom(9 << 20))  # above the loose threshold
    small = [blob(d) for d in randoms(10, 1000)]
    store.put_many(WS, [big, *small])
    assert len(filer_objects(weed_server.filer_url, store.root)) == 2
    store.delete_many(WS, [big.sha256, *(p.sha256 for p in small)])
    assert filer_objects(weed_server.filer_url, store.root) == {}


def test_sweep_spares_young_objects(store: SeaweedBlobStore, weed_server: WeedServer) -> None:
    store.put_many(WS, [blob(b"indexed")])
    stray = f"{weed_server.filer_url}{store.root}/{WS}/packs/stray.pack"
    requests.put(stray, data=b"left by a killed writer").raise_for_status()
    assert store.sweep_unindexed(older_than_seconds=3600) == 0
    assert store.sweep_unindexed(older_than_seconds=0) == 1
    assert requests.get(stray).status_code == 404
    assert store.read(WS, blob(b"indexed").sha256) == b"indexed"


def test_index_can_be_rebuilt_from_the_objects(weed_server: WeedServer, tmp_path: Path) -> None:
    root = fresh_root()
    first = SeaweedBlobStore(
        weed_server.filer_url, tmp_path / "a.sqlite", root=root, pack_bytes=64 << 10
    )
    puts = [blob(d) for d in randoms(60, 3000)] + [blob(os.urandom(9 << 20))]
    first.put_many(WS, puts)
    listed = {b.sha256: b for b in first.list_blobs(WS)}
    first.close()

    second = SeaweedBlobStore(weed_server.filer_url, tmp_path / "b.sqlite", root=root)
    try:
        assert second.stats(WS) == BlobStats(0, 0)
        assert second.rebuild_index() == len(puts)
        assert second.rebuild_index() == 0
        rebuilt = {b.sha256: b for b in second.list_blobs(WS)}
        assert {s: b.size for s, b in rebuilt.items()} == {s: b.size for s, b in listed.items()}
        got = dict(second.read_many(WS, [p.sha256 for p in puts[:-1]]))
        assert got == {p.sha256: p.data for p in puts[:-1]}
        assert hashlib.sha256(b"".join(second.stream(WS, puts[-1].sha256))).hexdigest() == (
            puts[-1].sha256
        )
    finally:
        second.close()


def test_several_processes_share_one_index(weed_server: WeedServer, tmp_path: Path) -> None:
    root, index = fresh_root(), tmp_path / "index.sqlite"
    seeds = [tmp_path / f"seed{i}" for i in range(3)]
    shared = randoms(200, 3000)
    for seed in seeds:  # every writer: the shared blobs plus its own
        seed.write_bytes(b"".join(shared + randoms(100, 3000)))
    child = textwrap.dedent(f"""
        import hashlib, sys
        from pathlib import Path
        from appliance.adapters.blobs.seaweed import SeaweedBlobStore
        from appliance.ports.blobstore import BlobPut
        raw = Path(sys.argv[1]).read_bytes()
        datas = [raw[i:i + 3000] for i in range(0, len(raw), 3000)]
        store = SeaweedBlobStore({weed_server.filer_url!r}, Path({str(index)!r}),
                                 root={root!r}, pack_bytes=128 << 10)
        puts = [BlobPut(hashlib.sha256(d).hexdigest(), len(d), data=d) for d in datas]
        print(store.put_many({WS!r}, puts))
    """)
    procs = [
        subprocess.Popen([sys.executable, "-c", child, str(s)], cwd=REPO, stdout=subprocess.PIPE)
        for s in seeds
    ]
    stored = [int(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert 300 <= sum(stored) <= 200 * 3 + 300  # shared blobs may race, none is lost
    store = SeaweedBlobStore(weed_server.filer_url, index, root=root)
    try:
        assert store.stats(WS) == BlobStats(500, 500 * 3000)
        assert len(dict(store.read_many(WS, [b.sha256 for b in store.list_blobs(WS)]))) == 500
    finally:
        store.close()


def test_weed_lifecycle_and_unavailable_store(tmp_path: Path) -> None:
    server = WeedServer(tmp_path / "data", tmp_path / "log")
    assert server.pid is None and server.poll() is None
    with pytest.raises(ServiceFailed):
        _ = server.filer_url
    server.start()
    store: SeaweedBlobStore | None = None
    try:
        url = server.filer_url
        store = SeaweedBlobStore(url, tmp_path / "index.sqlite", pack_bytes=64 << 10)
        puts = [blob(d) for d in randoms(50, 5000)]
        assert store.put_many(WS, puts) == 50

        server.stop()
        assert server.pid is None and server.poll() is not None
        server.stop()  # idempotent
        with pytest.raises(BlobStoreUnavailable) as err:
            store.ping()
        assert err.value.where == url
        with pytest.raises(BlobStoreUnavailable):
            store.read(WS, puts[0].sha256)
        with pytest.raises(BlobStoreUnavailable):
            list(store.read_many(WS, [p.sha256 for p in puts]))
        with pytest.raises(BlobStoreUnavailable):
            store.put_many(WS, [blob(b"while down")])
        assert store.missing(WS, {blob(b"while down").sha256}) == {blob(b"while down").sha256}

        server.start()  # on existing data: raft election, then the same ports
        assert server.filer_url == url
        assert dict(store.read_many(WS, [p.sha256 for p in puts])) == {
            p.sha256: p.data for p in puts
        }
        assert store.put_many(WS, [blob(b"after restart")]) == 1
    finally:
        if store is not None:
            store.close()
        server.stop()
    assert server.poll() is not None and server.pid is None
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 96 MiB tmpfs for weed to fill. Needs root and mount."""
    where = tmp_path / "tiny"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", str(where)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_full_disk_raises_storage_full(tiny_disk: Path, tmp_path: Path) -> None:
    server = WeedServer(tiny_disk / "data", tmp_path / "log", volume_size_limit_mb=16)
    server.start()
    store = SeaweedBlobStore(server.filer_url, tmp_path / "index.sqlite", pack_bytes=4 << 20)
    try:
        stored: list[str] = []
        with pytest.raises(StorageFull) as err:
            for _ in range(40):  # 40 x 4 MB is more than the disk holds
                batch = [blob(d) for d in randoms(40, 100_000)]
                store.put_many(WS, batch)
                stored += [p.sha256 for p in batch]
        assert err.value.where == server.filer_url
        assert stored, "the disk filled before anything was stored"
        listed = [b.sha256 for b in store.list_blobs(WS)]
        assert set(stored) <= set(listed)
        assert len(dict(store.read_many(WS, listed))) == len(listed)  # all whole
    finally:
        store.close()
        # A weed out of volumes ignores SIGTERM (PLATFORM_NOTES); do not wait 45 s.
        server.stop(timeout=5)
