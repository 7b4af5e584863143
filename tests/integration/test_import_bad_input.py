"""Bad trees are refused whole, naming each file and the fix; nothing is stored."""

from __future__ import annotations

import os

import pytest

from appliance.errors import ImportRejected, InvalidInput, NotFound
from appliance.services import datasets, importing
from tests.conftest import make_tree

pytestmark = pytest.mark.integration


@pytest.fixture
def ds(engine):
    engine(datasets.create, "ds", "me")
    return "ds"


def _state(engine):
    st = engine(datasets.status, "ds")
    return st.working_files, engine.blob_count()


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
def test_bad_tree_is_refused_and_store_unchanged(engine, ds, tmp_path, make_problem):
    src = tmp_path / "src"
    make_tree(src, 30)
    before = _state(engine)
    name, reason = make_problem(src, tmp_path)
    with pytest.raises(ImportRejected) as info:
        engine(importing.import_tree, ds, src, "me")
    assert (name,) == tuple(p for p, _ in info.value.problems if p == name)
    assert reason in str(info.value)
    assert "nothing was stored" in info.value.hint
    assert _state(engine) == before


def test_symlink_inside_root_is_followed(engine, ds, tmp_path):
    src = tmp_path / "src"
    make_tree(src, 3)
    target = sorted(p for p in src.rglob("*.jpg"))[0]
    os.symlink(target, src / "alias.jpg")
    report = engine(importing.import_tree, ds, src, "me")
    assert report.files == 4 and report.new_blobs == 3


def test_missing_source_and_unknown_dataset(engine, ds, tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        engine(importing.import_tree, ds, tmp_path / "nope", "me")
    with pytest.raises(NotFound, match="dataset 'other'"):
        engine(importing.import_tree, "other", tmp_path, "me")


def test_bad_prefix_is_refused(engine, ds, tmp_path):
    src = tmp_path / "src"
    make_tree(src, 1)
    with pytest.raises(InvalidInput, match=r"'\.\.'"):
        engine(importing.import_tree, ds, src, "me", prefix="../up")


def test_sidecar_label_files_import_as_plain_files(engine, ds, tmp_path):
    src = tmp_path / "src"
    make_tree(src, 2)
    (src / "d0" / "sub0" / "img_00000.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (src / "classes.txt").write_text("car\n")
    report = engine(importing.import_tree, ds, src, "me")
    assert report.files == 4
