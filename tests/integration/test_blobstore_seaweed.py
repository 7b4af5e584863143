"""SeaweedBlobStore against the BlobStore contract, on a real ``weed``, plus crash
safety, compaction, sweeping, index rebuild and the server's lifecycle.

Most tests run twice: packs straight on volume servers (``volume``, what the
appliance uses) and packs on the filer (``filer``, a store without master_url).
"""

from __future__ import annotations

import functools
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
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import requests

from appliance.adapters.blobs.pack_index import PackIndex
from appliance.adapters.blobs.seaweed import SeaweedBlobStore
from appliance.adapters.seaweed.process import WeedServer
from appliance.adapters.seaweed.volume import is_fid
from appliance.errors import BlobStoreError, BlobStoreUnavailable, ServiceFailed, StorageFull
from appliance.ports.blobstore import BlobStats
from tests.conftest import tmpfs
from tests.integration.blobstore_contract import WS, BlobStoreContract, blob, randoms

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def fresh_root() -> str:
    return f"/ahoy-test/{uuid.uuid4().hex}"


MODES = ["volume", "filer"]


def master_for(mode: str, server: WeedServer) -> str | None:
    return server.master_url if mode == "volume" else None


@functools.cache
def http(server: WeedServer) -> requests.Session:
    """Raw requests to weed, with the appliance's keys."""
    return server.client_session()


def open_store(server: WeedServer, index: Path, **kwargs: object) -> SeaweedBlobStore:
    return SeaweedBlobStore(
        server.filer_url,
        index,
        credentials=server.credentials,
        **kwargs,  # type: ignore[arg-type]
    )


def filer_objects(server: WeedServer, root: str, ws: str = WS) -> dict[str, int]:
    """Every object under the store's packs/ and loose/ folders: path → size."""
    found: dict[str, int] = {}
    for kind in ("packs", "loose"):
        url = f"{server.filer_url}{root}/{ws}/{kind}/"
        r = http(server).get(url, headers={"Accept": "application/json"})
        if r.status_code == 404:
            continue
        for e in r.json().get("Entries") or ():
            found[e["FullPath"]] = int(e["FileSize"])
    return found


def needle_url(server: WeedServer, fid: str) -> str:
    vid = fid.split(",")[0]
    r = http(server).get(f"{server.master_url}/dir/lookup", params={"volumeId": vid})
    return f"http://{r.json()['locations'][0]['url']}/{fid}"


def needle_size(server: WeedServer, fid: str) -> int | None:
    """The size of a volume needle; None if it is not there."""
    r = http(server).get(
        needle_url(server, fid), headers={"Range": "bytes=0-0", "Accept-Encoding": "identity"}
    )
    if r.status_code == 404:
        return None
    assert r.status_code == 206, r.status_code
    return int(r.headers["Content-Range"].rsplit("/", 1)[1])


def stored_objects(
    server: WeedServer, store: SeaweedBlobStore, also: Iterable[str] = ()
) -> dict[str, int]:
    """Every object of the store that exists in weed, locator → size: its filer
    objects, and the needles among the indexed, pending and ``also`` fids (weed
    cannot list a volume's needles)."""
    found = filer_objects(server, store.root)
    fids = store._index.object_locators() | set(store._index.pending()) | set(also)
    for fid in filter(is_fid, fids):
        size = needle_size(server, fid)
        if size is not None:
            found[fid] = size
    return found


class TestSeaweedBlobStore(BlobStoreContract):
    """Packs on volume servers: what the appliance runs."""

    master = True

    @pytest.fixture(autouse=True)
    def _server(self, weed_server: WeedServer) -> None:
        self.server = weed_server

    def make_store(self, tmp_path: Path) -> SeaweedBlobStore:
        # Small packs, so that even the contract's few blobs span several packs.
        return open_store(
            self.server,
            tmp_path / "index.sqlite",
            master_url=self.server.master_url if self.master else None,
            root=fresh_root(),
            pack_bytes=1 << 20,
        )

    def corrupt(self, store: SeaweedBlobStore, workspace: str, sha256: str) -> None:  # type: ignore[override]
        loc = store._index.locate(workspace, [sha256])[sha256]
        if is_fid(loc.locator):
            url = needle_url(self.server, loc.locator)
        else:
            url = self.server.filer_url + loc.locator
        weed = http(self.server)
        raw = bytearray(weed.get(url, headers={"Accept-Encoding": "identity"}).content)
        raw[loc.offset + loc.size // 2] ^= 0xFF
        headers = {"Content-Type": "application/octet-stream"}
        weed.put(url, data=bytes(raw), headers=headers).raise_for_status()


class TestSeaweedBlobStoreFilerPacks(TestSeaweedBlobStore):
    """Packs on the filer: a store opened without the master's URL."""

    master = False


@pytest.fixture(params=MODES)
def store(request: pytest.FixtureRequest, weed_server: WeedServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    s = open_store(
        weed_server,
        tmp_path / "index.sqlite",
        master_url=master_for(request.param, weed_server),
        root=fresh_root(),
        pack_bytes=64 << 10,
    )
    yield s
    s.close()


def test_small_blobs_are_packed(store: SeaweedBlobStore, weed_server: WeedServer) -> None:
    puts = [blob(d) for d in randoms(400, 2000)]  # 800 KB in 64 KiB packs
    assert store.put_many(WS, puts) == 400
    objects = stored_objects(weed_server, store)
    assert 10 <= len(objects) <= 16
    if store.master_url:
        assert all(is_fid(p) for p in objects)
        assert store._index.pending() == {}
    else:
        assert all(p.endswith(".pack") for p in objects)


@pytest.mark.parametrize(
    ("mode", "round_"), [("volume", 0), ("volume", 1), ("volume", 2), ("filer", 0)]
)
def test_index_rows_always_point_at_whole_bytes_after_kill_9(
    weed_server: WeedServer, tmp_path: Path, mode: str, round_: int
) -> None:
    """A writer killed at a random moment: mid-pack, mid-upload or mid-commit.

    Volume mode also checks that no needle is orphaned: the child logs every fid
    it is assigned before uploading to it, and each that exists afterwards must
    be indexed or named in the pending journal (and so swept)."""
    root, index, fid_log = fresh_root(), tmp_path / "index.sqlite", tmp_path / "fids.log"
    master = master_for(mode, weed_server)
    assert weed_server.credentials is not None
    creds = weed_server.credentials.dir
    child = textwrap.dedent(f"""
        import hashlib, os
        from pathlib import Path
        from appliance.adapters.blobs.seaweed import SeaweedBlobStore
        from appliance.adapters.seaweed.credentials import WeedCredentials
        from appliance.ports.blobstore import BlobPut
        store = SeaweedBlobStore({weed_server.filer_url!r}, Path({str(index)!r}),
                                 master_url={master!r}, root={root!r},
                                 credentials=WeedCredentials(Path({str(creds)!r})),
                                 pack_bytes=256 << 10, upload_workers=3)
        if store._volumes is not None:
            fid_log = open({str(fid_log)!r}, "a", buffering=1)
            assign = store._volumes.assign
            def logged():
                where = assign()
                fid_log.write(where.fid + "\\n")  # in the kernel before any upload
                return where
            store._volumes.assign = logged
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

    store = open_store(weed_server, index, master_url=master, root=root)
    try:
        with sqlite3.connect(index) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        listed = [b.sha256 for b in store.list_blobs(WS)]
        assert len(listed) >= want * 10
        got = dict(store.read_many(WS, listed))  # verifies every hash
        assert set(got) == set(listed)
        indexed = store._index.object_locators()
        pending = set(store._index.pending())
        assigned = fid_log.read_text().split() if master else []
        stored = stored_objects(weed_server, store, also=assigned)
        assert indexed <= set(stored)
        assert not indexed & pending
        assert set(stored) - indexed <= pending | set(filer_objects(weed_server, root))
        if master:
            assert all(is_fid(p) for p in indexed)
            assert len(assigned) >= len(indexed)
        assert store.sweep_unindexed(older_than_seconds=0) == len(set(stored) - indexed)
        assert store._index.pending() == {}
        assert set(stored_objects(weed_server, store, also=assigned)) == indexed
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


@pytest.mark.parametrize("mode", MODES)
def test_compaction_reclaims_space_and_keeps_the_rest(
    weed_server: WeedServer, tmp_path: Path, mode: str
) -> None:
    store = open_store(
        weed_server,
        tmp_path / "index.sqlite",
        master_url=master_for(mode, weed_server),
        root=fresh_root(),
        pack_bytes=64 << 10,
        auto_compact=False,
    )
    try:
        puts = [blob(d) for d in randoms(300, 4000)]
        store.put_many(WS, puts)
        before = stored_objects(weed_server, store)
        doomed = [p for i, p in enumerate(puts) if i % 4 != 0]  # 75 % of every pack
        kept = [p for i, p in enumerate(puts) if i % 4 == 0]
        assert store.delete_many(WS, [p.sha256 for p in doomed]) == 4000 * len(doomed)
        assert stored_objects(weed_server, store, also=before) == before  # nothing moved yet

        reclaimed = store.compact(min_live_ratio=0.5)
        after = stored_objects(weed_server, store, also=before)
        assert reclaimed == sum(before.values()) - sum(after.values())
        assert reclaimed > 0.6 * 4000 * 300
        assert len(after) < len(before)
        assert set(after) == store._index.object_locators()
        assert store._index.pending() == {}
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
    first = stored_objects(weed_server, store)
    store.delete_many(WS, [p.sha256 for p in puts[:80]])
    after = sum(stored_objects(weed_server, store, also=first).values())
    assert after < 0.4 * sum(first.values())
    assert dict(store.read_many(WS, [p.sha256 for p in puts[80:]])) == {
        p.sha256: p.data for p in puts[80:]
    }


def test_deleting_every_blob_of_an_object_deletes_the_object(
    store: SeaweedBlobStore, weed_server: WeedServer
) -> None:
    big = blob(os.urandom(9 << 20))  # above the loose threshold: on the filer either way
    small = [blob(d) for d in randoms(10, 1000)]
    store.put_many(WS, [big, *small])
    first = stored_objects(weed_server, store)
    assert len(first) == 2
    assert len(filer_objects(weed_server, store.root)) == (1 if store.master_url else 2)
    store.delete_many(WS, [big.sha256, *(p.sha256 for p in small)])
    assert stored_objects(weed_server, store, also=first) == {}


def test_sweep_spares_young_objects(store: SeaweedBlobStore, weed_server: WeedServer) -> None:
    store.put_many(WS, [blob(b"indexed")])
    stray = f"{weed_server.filer_url}{store.root}/{WS}/packs/stray.pack"
    http(weed_server).put(stray, data=b"left by a killed writer").raise_for_status()
    assert store.sweep_unindexed(older_than_seconds=3600) == 0
    assert store.sweep_unindexed(older_than_seconds=0) == 1
    assert http(weed_server).get(stray).status_code == 404
    assert store.read(WS, blob(b"indexed").sha256) == b"indexed"


def test_sweep_deletes_journalled_packs_once_and_spares_young_ones(
    weed_server: WeedServer, tmp_path: Path
) -> None:
    """A killed writer's needles: one uploaded, one assigned but never written."""
    store = open_store(
        weed_server,
        tmp_path / "index.sqlite",
        master_url=weed_server.master_url,
        root=fresh_root(),
    )
    try:
        assert store._volumes is not None
        written, never = store._volumes.assign(), store._volumes.assign()
        for where in (written, never):
            store._index.add_pending(where.fid, WS, time.time())
        store._volumes.put(written, b"an orphaned pack")
        assert store.sweep_unindexed(older_than_seconds=3600) == 0
        assert needle_size(weed_server, written.fid) == len(b"an orphaned pack")
        assert store.sweep_unindexed(older_than_seconds=0) == 1  # the unwritten one is done too
        assert needle_size(weed_server, written.fid) is None
        assert store._index.pending() == {}
        assert store.sweep_unindexed(older_than_seconds=0) == 0
    finally:
        store.close()


def test_a_pack_swept_before_its_commit_is_never_indexed(
    weed_server: WeedServer, tmp_path: Path
) -> None:
    """A writer stalled past the sweep's age guard between upload and commit:
    the sweep claims its pack, deletes the needle, and the commit refuses."""
    store = open_store(
        weed_server,
        tmp_path / "index.sqlite",
        master_url=weed_server.master_url,
        root=fresh_root(),
    )
    try:
        write_pack = store._objects.write_pack
        uploaded: list[str] = []

        def stalled(workspace: str, body: bytes | bytearray) -> str:
            fid = write_pack(workspace, body)
            uploaded.append(fid)
            assert store.sweep_unindexed(older_than_seconds=0) == 1
            return fid

        store._objects.write_pack = stalled  # type: ignore[method-assign]
        victim = blob(b"swept while stalled")
        with pytest.raises(BlobStoreUnavailable, match="swept"):
            store.put_many(WS, [victim])
        assert store.missing(WS, {victim.sha256}) == {victim.sha256}
        assert needle_size(weed_server, uploaded[0]) is None
        assert store._index.pending() == {}
        store._objects.write_pack = write_pack  # type: ignore[method-assign]
        assert store.put_many(WS, [victim]) == 1
        assert store.read(WS, victim.sha256) == victim.data
    finally:
        store.close()


def test_filer_packs_stay_readable_beside_volume_packs(
    weed_server: WeedServer, tmp_path: Path
) -> None:
    """An index written without master_url, reopened with it (and back)."""
    root, index = fresh_root(), tmp_path / "index.sqlite"
    old = [blob(d) for d in randoms(50, 3000)]
    new = [blob(d) for d in randoms(50, 3000)]
    urls = (weed_server, index)
    with_filer = open_store(*urls, root=root, pack_bytes=64 << 10)
    with_filer.put_many(WS, old)
    with_filer.close()
    both = open_store(*urls, master_url=weed_server.master_url, root=root)
    try:
        assert both.put_many(WS, old + new) == 50
        locators = both._index.object_locators()
        assert any(is_fid(x) for x in locators) and any(x.startswith("/") for x in locators)
        assert dict(both.read_many(WS, [p.sha256 for p in old + new])) == {
            p.sha256: p.data for p in old + new
        }
    finally:
        both.close()
    filer_only = open_store(*urls, root=root)
    try:
        with pytest.raises(BlobStoreError, match="master"):
            filer_only.read(WS, new[0].sha256)
        assert filer_only.read(WS, old[0].sha256) == old[0].data
    finally:
        filer_only.close()


def test_a_version_1_index_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE objects (id INTEGER PRIMARY KEY, workspace TEXT NOT NULL,
                path TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, size INTEGER NOT NULL,
                live_bytes INTEGER NOT NULL, created_at REAL NOT NULL);
            CREATE TABLE blobs (workspace TEXT NOT NULL, sha256 TEXT NOT NULL,
                object_id INTEGER NOT NULL, offset INTEGER NOT NULL, size INTEGER NOT NULL,
                stored_at REAL NOT NULL, PRIMARY KEY (workspace, sha256)) WITHOUT ROWID;
            INSERT INTO objects VALUES (1, 'ws-a', '/ahoy/blobs/ws-a/packs/1.pack', 'pack',
                100, 10, 0);
            INSERT INTO blobs VALUES ('ws-a', 'aa', 1, 5, 10, 0);
        """)
    db.close()
    index = PackIndex(path)
    try:
        loc = index.locate(WS, ["aa"])["aa"]
        assert (loc.locator, loc.offset, loc.size) == ("/ahoy/blobs/ws-a/packs/1.pack", 5, 10)
        assert index.pending() == {}
    finally:
        index.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()


def test_index_can_be_rebuilt_from_the_objects(weed_server: WeedServer, tmp_path: Path) -> None:
    """Filer objects only: a store with master_url keeps packs on volumes,
    which weed cannot list (docs/blobstore.md)."""
    root = fresh_root()
    first = open_store(weed_server, tmp_path / "a.sqlite", root=root, pack_bytes=64 << 10)
    puts = [blob(d) for d in randoms(60, 3000)] + [blob(os.urandom(9 << 20))]
    first.put_many(WS, puts)
    listed = {b.sha256: b for b in first.list_blobs(WS)}
    first.close()

    second = open_store(weed_server, tmp_path / "b.sqlite", root=root)
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
    assert weed_server.credentials is not None
    creds = weed_server.credentials.dir
    seeds = [tmp_path / f"seed{i}" for i in range(3)]
    shared = randoms(200, 3000)
    for seed in seeds:  # every writer: the shared blobs plus its own
        seed.write_bytes(b"".join(shared + randoms(100, 3000)))
    child = textwrap.dedent(f"""
        import hashlib, sys
        from pathlib import Path
        from appliance.adapters.blobs.seaweed import SeaweedBlobStore
        from appliance.adapters.seaweed.credentials import WeedCredentials
        from appliance.ports.blobstore import BlobPut
        raw = Path(sys.argv[1]).read_bytes()
        datas = [raw[i:i + 3000] for i in range(0, len(raw), 3000)]
        store = SeaweedBlobStore({weed_server.filer_url!r}, Path({str(index)!r}),
                                 master_url={weed_server.master_url!r}, root={root!r},
                                 credentials=WeedCredentials(Path({str(creds)!r})),
                                 pack_bytes=128 << 10)
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
    store = open_store(weed_server, index, master_url=weed_server.master_url, root=root)
    try:
        assert store._index.pending() == {}
        assert all(is_fid(x) for x in store._index.object_locators())
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
        store = open_store(
            server, tmp_path / "index.sqlite", master_url=server.master_url, pack_bytes=64 << 10
        )
        puts = [blob(d) for d in randoms(50, 5000)]
        assert store.put_many(WS, puts) == 50
        assert server.credentials is not None
        keys = {p.name: p.read_bytes() for p in server.credentials.dir.iterdir()}

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

        server.start()  # on existing data: raft election, then the same ports and keys
        assert server.filer_url == url
        assert {p.name: p.read_bytes() for p in server.credentials.dir.iterdir()} == keys
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
    with tmpfs(tmp_path / "tiny", "96m") as where:
        yield where


@pytest.mark.parametrize("mode", MODES)
def test_full_disk_raises_storage_full(tiny_disk: Path, tmp_path: Path, mode: str) -> None:
    server = WeedServer(tiny_disk / "data", tmp_path / "log", volume_size_limit_mb=16)
    server.start()
    store = open_store(
        server,
        tmp_path / "index.sqlite",
        master_url=master_for(mode, server),
        pack_bytes=4 << 20,
    )
    try:
        stored: list[str] = []
        with pytest.raises(StorageFull) as err:
            for _ in range(40):  # 40 x 4 MB is more than the disk holds
                batch = [blob(d) for d in randoms(40, 100_000)]
                store.put_many(WS, batch)
                stored += [p.sha256 for p in batch]
        assert server.ports is not None
        volume_url = f"http://127.0.0.1:{server.ports.volume}"
        assert err.value.where in (server.filer_url, server.master_url, volume_url)
        assert stored, "the disk filled before anything was stored"
        listed = [b.sha256 for b in store.list_blobs(WS)]
        assert set(stored) <= set(listed)
        assert len(dict(store.read_many(WS, listed))) == len(listed)  # all whole
        assert store.sweep_unindexed(older_than_seconds=0) >= 0
        assert store._index.pending() == {}
    finally:
        store.close()
        # A weed out of volumes ignores SIGTERM (PLATFORM_NOTES); do not wait 45 s.
        server.stop(timeout=5)
