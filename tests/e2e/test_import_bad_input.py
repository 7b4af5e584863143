"""Bad trees are refused whole by an upload (`ahoy dataset import`), naming each file
and the fix, before anything is sent: the appliance's working area and blob store
stay as they were. So is content that was erased, and an upload the disk cannot hold."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.errors import ImportRejected, InvalidInput
from appliance.sdk import ApiError, Client
from appliance.settings import Settings
from tests.conftest import make_tree, tmpfs
from tests.e2e.conftest import LOCAL_STORE, Appliance, client, free_port

pytestmark = pytest.mark.e2e


_names = itertools.count(1)


@pytest.fixture
def ds(local_appliance: Appliance) -> str:
    """A dataset of its own for each test (they share one appliance)."""
    name = f"ds-{next(_names)}"
    client(local_appliance).create_dataset(None, name)
    return name


def _state(app: Appliance, ds: str) -> tuple[int, set[str]]:
    return client(app).working(None, ds)["working_files"], app.stored_blobs()


def _symlink_outside(src, tmp_path):
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", src / "link.txt")
    return "link.txt", "outside the import root"


def _broken_symlink(src, tmp_path):
    os.symlink(src / "nowhere", src / "dangling.jpg")
    return "dangling.jpg", "broken symlink"


def _non_utf8_name(src, tmp_path):
    with open(os.path.join(os.fsencode(src), b"bad\xff.jpg"), "wb") as fh:
        fh.write(b"x")
    return "bad\\xff.jpg", "not valid UTF-8"


def _fifo(src, tmp_path):
    os.mkfifo(src / "pipe")
    return "pipe", "not a regular file"


def _backslash_name(src, tmp_path):
    (src / "win\\style.jpg").write_bytes(b"x")
    return "win\\style.jpg", "backslash"


@pytest.mark.parametrize(
    "make_problem", [_symlink_outside, _broken_symlink, _non_utf8_name, _fifo, _backslash_name]
)
def test_bad_tree_is_refused_and_store_unchanged(local_appliance, ds, tmp_path, make_problem):
    src = tmp_path / "src"
    make_tree(src, 30, seed=7)
    before = _state(local_appliance, ds)
    name, reason = make_problem(src, tmp_path)
    with pytest.raises(ImportRejected) as info:
        client(local_appliance).upload_tree(None, ds, src)
    assert (name,) == tuple(p for p, _ in info.value.problems if p == name)
    assert reason in str(info.value)
    assert "nothing was stored" in info.value.hint
    assert _state(local_appliance, ds) == before


def test_symlink_inside_root_is_followed(local_appliance, ds, tmp_path):
    src = tmp_path / "src"
    make_tree(src, 3, seed=8)
    target = sorted(p for p in src.rglob("*.jpg"))[0]
    os.symlink(target, src / "alias.jpg")
    report = client(local_appliance).upload_tree(None, ds, src)
    assert report.files == 4 and report.uploaded_blobs == 3


def test_missing_source_and_unknown_dataset(local_appliance, ds, tmp_path):
    c = client(local_appliance)
    with pytest.raises(InvalidInput, match="does not exist"):
        c.upload_tree(None, ds, tmp_path / "nope")
    with pytest.raises(ApiError, match="dataset 'other'") as info:
        c.upload_tree(None, "other", tmp_path)
    assert info.value.status == 404


def test_bad_prefix_is_refused(local_appliance, ds, tmp_path):
    src = tmp_path / "src"
    make_tree(src, 1)
    with pytest.raises(InvalidInput, match=r"'\.\.'"):
        client(local_appliance).upload_tree(None, ds, src, prefix="../up")


def test_sidecar_label_files_import_as_plain_files(local_appliance, ds, tmp_path):
    src = tmp_path / "src"
    make_tree(src, 2, seed=9)
    (src / "d0" / "sub0" / "img_00000.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (src / "classes.txt").write_text("car\n")
    report = client(local_appliance).upload_tree(None, ds, src)
    assert report.files == 4


def _erased_file(app: Appliance, ds: str, src: Path, seed: int) -> str:
    """Uploads and commits a small tree, erases one file of it; returns that file's
    digest. (The appliance is shared: each test erases content of its own seed.)"""
    c = client(app)
    digests = make_tree(src, 3, seed=seed)
    c.upload_tree(None, ds, src)
    c.commit(None, ds, "v1")
    victim = sorted(digests)[0]
    app.ahoy("erase", "--dataset", ds, "--file", victim, "--reason", "request 7")
    assert digests[victim] not in app.stored_blobs()
    return digests[victim]


def test_erased_content_cannot_come_back(local_appliance, ds, tmp_path):
    c = client(local_appliance)
    _erased_file(local_appliance, ds, tmp_path / "src", seed=10)
    before = list(c.working_files(None, ds))
    with pytest.raises(ApiError, match="was erased") as info:
        c.upload_tree(None, ds, tmp_path / "src")
    assert info.value.code == "import-rejected"
    assert list(c.working_files(None, ds)) == before


def test_erased_bytes_do_not_come_back_into_the_store(local_appliance, ds, tmp_path):
    victim = _erased_file(local_appliance, ds, tmp_path / "src", seed=11)
    with pytest.raises(ApiError, match="was erased"):
        client(local_appliance).upload_tree(None, ds, tmp_path / "src")
    assert victim not in local_appliance.stored_blobs()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Appliance]:
    """An appliance whose blob store is on a 2 MiB tmpfs, so the disk really fills up."""
    app = Appliance(tmp_path / "appliance" / "data", free_port())
    app.env.update(LOCAL_STORE)
    with tmpfs(Settings(data_dir=app.data_dir).blob_dir, "2m"):
        app.start()
        try:
            yield app
        finally:
            client(app).close()
            app.stop()


def test_full_disk_is_a_clear_error_and_stores_nothing(small_disk: Appliance, tmp_path: Path):
    c: Client = client(small_disk)
    c.create_dataset(None, "ds")
    first = tmp_path / "first"
    make_tree(first, 5, size=10_000)
    c.upload_tree(None, "ds", first)
    before = _state(small_disk, "ds")
    big = tmp_path / "big"
    make_tree(big, 60, size=60_000, seed=3)  # 3.6 MB into what is left of 2 MiB
    with pytest.raises(ApiError) as info:
        c.upload_tree(None, "ds", big)
    assert info.value.code == "storage-full"
    assert "no space left" in info.value.message and "nothing was stored" in info.value.hint
    assert _state(small_disk, "ds") == before
