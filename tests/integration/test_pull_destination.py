"""``Destination``, through which a pull (and every other writer of a folder someone
named) writes, never writes through a link it finds in that folder: not a folder
link pointing elsewhere, not a link planted where a file or its temporary copy
goes. A pull's own refusals are tested end to end (tests/e2e/test_cli_roundtrip.py)."""

from __future__ import annotations

import hashlib
import os

import pytest

from appliance.destination import OPEN_FOLDERS, Destination, write_file
from appliance.errors import UnsafeDestination
from tests.conftest import tree_digests

pytestmark = pytest.mark.integration


def test_a_destination_that_is_itself_a_link_is_refused_with_its_real_path(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    with pytest.raises(UnsafeDestination) as refused:
        Destination.open(link)
    assert str(link) in refused.value.message and str(real) in refused.value.hint


def test_a_file_where_a_folder_goes_and_a_folder_where_a_file_goes_are_named(tmp_path):
    (tmp_path / "a").write_bytes(b"x")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "c").mkdir()
    with Destination.open(tmp_path) as out:
        with pytest.raises(UnsafeDestination, match="is a file where a folder is needed"):
            out.write("a/x.jpg", [b"1"])
        with pytest.raises(UnsafeDestination, match="is a folder where a file goes"):
            out.write("b/c", [b"1"])
    assert sorted(os.listdir(tmp_path / "b")) == ["c"]  # no temporary left behind


def test_a_failed_check_keeps_nothing(tmp_path):
    def refuse() -> None:
        raise ValueError("bad hash")

    with Destination.open(tmp_path / "d") as out, pytest.raises(ValueError):
        out.write("x/y.bin", [b"abc"], check=refuse)
    assert os.listdir(tmp_path / "d" / "x") == []


def test_thousands_of_folders_do_not_exhaust_descriptors(tmp_path):
    """Folders are kept open only a few at a time; revisiting one reopens it safely."""
    names = [f"f{i % (OPEN_FOLDERS * 4)}/g{i}/x.bin" for i in range(OPEN_FOLDERS * 8)]
    with Destination.open(tmp_path / "d") as out:
        for n in names:
            out.write(n, [n.encode()])
        assert len(out._open) <= OPEN_FOLDERS
    got = tree_digests(tmp_path / "d")
    assert got == {n: hashlib.sha256(n.encode()).hexdigest() for n in names}


def test_write_file_makes_its_folder_and_replaces_the_file_whole(tmp_path):
    target = tmp_path / "new" / "m.json"
    assert write_file(target, [b"{}", b"\n"]) == 3
    write_file(target, [b"[]"])
    assert target.read_bytes() == b"[]" and os.listdir(target.parent) == ["m.json"]
