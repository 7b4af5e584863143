"""The BlobStore contract: every rule of ``appliance/ports/blobstore.py``, once.

An adapter's test module subclasses ``BlobStoreContract`` and provides
``make_store(tmp_path)`` and ``corrupt(store, workspace, sha256)`` (damage the
stored bytes of one blob in place), like huey's ``StorageTests``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.errors import BlobCorrupt, BlobMissing, InvalidInput
from appliance.ports.blobstore import BlobInfo, BlobPut, BlobStats, BlobStore

WS = "ws-a"
OTHER = "ws_b"


def blob(data: bytes) -> BlobPut:
    return BlobPut(hashlib.sha256(data).hexdigest(), len(data), data=data)


def file_blob(path: Path, data: bytes) -> BlobPut:
    path.write_bytes(data)
    return BlobPut(hashlib.sha256(data).hexdigest(), len(data), path=str(path))


def randoms(n: int, size: int) -> list[bytes]:
    return [os.urandom(size) for _ in range(n)]


class BlobStoreContract:
    large_size = 20 * 1000 * 1000

    def make_store(self, tmp_path: Path) -> BlobStore:
        raise NotImplementedError

    def corrupt(self, store: BlobStore, workspace: str, sha256: str) -> None:
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[BlobStore]:
        s = self.make_store(tmp_path)
        yield s
        s.close()

    # -- basics ----------------------------------------------------------------

    def test_has_a_name_and_answers_ping(self, store: BlobStore) -> None:
        assert isinstance(store.name, str) and store.name
        store.ping()

    def test_put_then_read_round_trips(self, store: BlobStore) -> None:
        data = os.urandom(1234)
        assert store.put_many(WS, [blob(data)]) == 1
        assert store.read(WS, blob(data).sha256) == data

    def test_put_from_path_round_trips(self, store: BlobStore, tmp_path: Path) -> None:
        data = os.urandom(70_000)
        put = file_blob(tmp_path / "src.bin", data)
        assert store.put_many(WS, [put]) == 1
        assert store.read(WS, put.sha256) == data

    def test_empty_blob_round_trips(self, store: BlobStore) -> None:
        assert store.put_many(WS, [blob(b"")]) == 1
        assert store.read(WS, blob(b"").sha256) == b""
        assert b"".join(store.stream(WS, blob(b"").sha256)) == b""

    def test_missing_reports_only_absent_digests(self, store: BlobStore) -> None:
        here, absent = blob(b"here"), blob(b"absent")
        store.put_many(WS, [here])
        assert store.missing(WS, {here.sha256, absent.sha256}) == {absent.sha256}
        assert store.missing(WS, set()) == set()

    def test_reput_is_a_no_op_and_duplicates_count_once(self, store: BlobStore) -> None:
        puts = [blob(d) for d in randoms(5, 3000)]
        assert store.put_many(WS, [*puts, *puts]) == 5
        assert store.put_many(WS, puts) == 0
        assert store.stats(WS) == BlobStats(5, 15_000)
        for p in puts:
            assert store.read(WS, p.sha256) == p.data

    def test_accepts_a_generator(self, store: BlobStore) -> None:
        datas = randoms(50, 1000)
        assert store.put_many(WS, (blob(d) for d in datas)) == 50
        assert store.missing(WS, {blob(d).sha256 for d in datas}) == set()

    def test_workspaces_are_isolated(self, store: BlobStore) -> None:
        put = blob(b"only in a")
        store.put_many(WS, [put])
        assert store.missing(OTHER, {put.sha256}) == {put.sha256}
        with pytest.raises(BlobMissing):
            store.read(OTHER, put.sha256)
        assert store.stats(OTHER) == BlobStats(0, 0)
        assert list(store.list_blobs(OTHER)) == []
        assert store.delete_many(OTHER, [put.sha256]) == 0
        assert store.read(WS, put.sha256) == b"only in a"
        # the same bytes stored in both are two blobs, deleted independently
        store.put_many(OTHER, [put])
        store.delete_many(WS, [put.sha256])
        assert store.read(OTHER, put.sha256) == b"only in a"

    # -- missing and corrupt ---------------------------------------------------

    def test_read_of_absent_digest_raises_blob_missing(self, store: BlobStore) -> None:
        sha = blob(b"never stored").sha256
        with pytest.raises(BlobMissing) as err:
            store.read(WS, sha)
        assert (err.value.workspace, err.value.sha256) == (WS, sha)
        with pytest.raises(BlobMissing):
            list(store.read_many(WS, [sha]))
        with pytest.raises(BlobMissing):
            list(store.stream(WS, sha))

    def test_read_many_with_one_absent_digest_raises(self, store: BlobStore) -> None:
        present = blob(b"present")
        store.put_many(WS, [present])
        with pytest.raises(BlobMissing) as err:
            list(store.read_many(WS, [present.sha256, blob(b"absent").sha256]))
        assert err.value.sha256 == blob(b"absent").sha256

    @pytest.mark.parametrize("size", [10, 60_000])
    def test_path_that_changed_raises_corrupt_and_stores_nothing(
        self, store: BlobStore, tmp_path: Path, size: int
    ) -> None:
        src = tmp_path / "changing.bin"
        claimed = hashlib.sha256(b"what the caller hashed").hexdigest()
        src.write_bytes(os.urandom(size))
        with pytest.raises(BlobCorrupt) as err:
            store.put_many(WS, [BlobPut(claimed, size, path=str(src))])
        assert err.value.sha256 == claimed
        assert err.value.actual == hashlib.sha256(src.read_bytes()).hexdigest()
        assert store.missing(WS, {claimed}) == {claimed}
        assert store.stats(WS) == BlobStats(0, 0)

    def test_large_path_that_changed_stores_nothing(self, store: BlobStore, tmp_path: Path) -> None:
        src = tmp_path / "big.bin"
        src.write_bytes(os.urandom(self.large_size))
        claimed = hashlib.sha256(b"stale").hexdigest()
        with pytest.raises(BlobCorrupt):
            store.put_many(WS, [BlobPut(claimed, self.large_size, path=str(src))])
        assert store.missing(WS, {claimed}) == {claimed}
        assert list(store.list_blobs(WS)) == []

    def test_blobs_before_a_failure_are_whole(self, store: BlobStore) -> None:
        datas = randoms(20, 2000)

        def puts() -> Iterator[BlobPut]:
            yield from (blob(d) for d in datas[:10])
            raise RuntimeError("source died")

        with pytest.raises(RuntimeError):
            store.put_many(WS, puts())
        held = {b.sha256 for b in store.list_blobs(WS)}
        assert held <= {blob(d).sha256 for d in datas[:10]}
        for sha, data in store.read_many(WS, held):
            assert hashlib.sha256(data).hexdigest() == sha
        assert store.put_many(WS, [blob(d) for d in datas]) == 20 - len(held)

    def test_corruption_is_detected_by_every_read(self, store: BlobStore) -> None:
        victim, bystander = blob(os.urandom(5000)), blob(os.urandom(5000))
        store.put_many(WS, [victim, bystander])
        self.corrupt(store, WS, victim.sha256)
        with pytest.raises(BlobCorrupt) as err:
            store.read(WS, victim.sha256)
        assert err.value.sha256 == victim.sha256 and err.value.actual != victim.sha256
        with pytest.raises(BlobCorrupt):
            list(store.read_many(WS, [bystander.sha256, victim.sha256]))
        with pytest.raises(BlobCorrupt):
            list(store.stream(WS, victim.sha256, chunk_size=1024))
        assert store.read(WS, bystander.sha256) == bystander.data

    # -- reading ---------------------------------------------------------------

    def test_read_many_yields_each_digest_once(self, store: BlobStore) -> None:
        puts = [blob(d) for d in randoms(30, 4000)]
        store.put_many(WS, puts)
        wanted = [p.sha256 for p in puts[:20]]
        got = list(store.read_many(WS, wanted + wanted[:5]))
        assert sorted(s for s, _ in got) == sorted(wanted)
        by_sha = {p.sha256: p.data for p in puts}
        assert all(data == by_sha[sha] for sha, data in got)
        assert list(store.read_many(WS, [])) == []

    def test_stream_yields_the_bytes_in_chunks(self, store: BlobStore) -> None:
        data = os.urandom(100_000)
        store.put_many(WS, [blob(data)])
        chunks = list(store.stream(WS, blob(data).sha256, chunk_size=8192))
        assert b"".join(chunks) == data
        assert len(chunks) > 1 and all(len(c) <= 8192 for c in chunks)

    def test_large_blob_from_path_streams_back(self, store: BlobStore, tmp_path: Path) -> None:
        data = os.urandom(self.large_size)
        put = file_blob(tmp_path / "large.bin", data)
        assert store.put_many(WS, [put]) == 1
        h = hashlib.sha256()
        total = 0
        for chunk in store.stream(WS, put.sha256):
            h.update(chunk)
            total += len(chunk)
        assert (total, h.hexdigest()) == (len(data), put.sha256)
        assert store.stats(WS) == BlobStats(1, len(data))

    def test_large_blob_from_memory_reads_back(self, store: BlobStore) -> None:
        data = os.urandom(self.large_size)
        assert store.put_many(WS, [blob(data)]) == 1
        assert store.read(WS, blob(data).sha256) == data

    def test_two_thousand_small_blobs_round_trip(self, store: BlobStore) -> None:
        datas = randoms(2000, 1500)
        puts = [blob(d) for d in datas]
        assert store.put_many(WS, puts) == 2000
        got = dict(store.read_many(WS, [p.sha256 for p in puts]))
        assert len(got) == 2000
        assert all(got[p.sha256] == p.data for p in puts)
        assert store.stats(WS) == BlobStats(2000, 2000 * 1500)

    # -- listing, stats, deleting ----------------------------------------------

    def test_list_blobs_and_stats_are_exact(self, store: BlobStore) -> None:
        before = time.time()
        puts = [blob(os.urandom(n)) for n in (1, 10, 100, 1000, 10_000)]
        store.put_many(WS, puts)
        after = time.time()
        listed = {b.sha256: b for b in store.list_blobs(WS)}
        assert set(listed) == {p.sha256 for p in puts}
        for p in puts:
            info = listed[p.sha256]
            assert isinstance(info, BlobInfo)
            assert info.size == p.size
            assert before - 2 <= info.stored_at <= after + 2
        assert store.stats(WS) == BlobStats(5, 11_111)

    def test_delete_many_removes_and_reports_bytes(self, store: BlobStore) -> None:
        puts = [blob(os.urandom(n)) for n in (500, 700, 900)]
        store.put_many(WS, puts)
        gone, kept = puts[:2], puts[2]
        absent = blob(b"not stored").sha256
        assert store.delete_many(WS, [p.sha256 for p in gone] + [absent]) == 1200
        assert store.missing(WS, {p.sha256 for p in puts}) == {p.sha256 for p in gone}
        with pytest.raises(BlobMissing):
            store.read(WS, gone[0].sha256)
        assert store.read(WS, kept.sha256) == kept.data
        assert store.stats(WS) == BlobStats(1, 900)
        assert store.delete_many(WS, [p.sha256 for p in gone]) == 0

    def test_a_deleted_blob_can_be_stored_again(self, store: BlobStore) -> None:
        put = blob(b"comes back")
        store.put_many(WS, [put])
        store.delete_many(WS, [put.sha256])
        assert store.put_many(WS, [put]) == 1
        assert store.read(WS, put.sha256) == b"comes back"

    # -- input checks ----------------------------------------------------------

    @pytest.mark.parametrize(
        ("workspace", "sha256"),
        [
            ("../etc", "a" * 64),
            ("", "a" * 64),
            ("ws/x", "a" * 64),
            (WS, "../" + "a" * 61),
            (WS, "A" * 64),
            (WS, "a" * 63),
        ],
    )
    def test_bad_names_are_refused(self, store: BlobStore, workspace: str, sha256: str) -> None:
        with pytest.raises(InvalidInput):
            store.read(workspace, sha256)
        with pytest.raises(InvalidInput):
            store.put_many(workspace, [BlobPut(sha256, 1, data=b"x")])

    def test_a_put_with_neither_data_nor_path_is_refused(self, store: BlobStore) -> None:
        with pytest.raises(InvalidInput):
            store.put_many(WS, [BlobPut("a" * 64, 1)])
        assert store.stats(WS) == BlobStats(0, 0)
