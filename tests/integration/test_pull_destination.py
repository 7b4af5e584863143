"""A pull (and every other writer of a folder someone named) never writes through a
link it finds in that folder: not a folder link pointing elsewhere, not a link
planted where a file or its temporary copy goes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from appliance.destination import OPEN_FOLDERS, Destination, write_file
from appliance.errors import UnsafeDestination
from appliance.services import pull
from tests.conftest import pulled_digests, tree_digests

pytestmark = pytest.mark.integration

VICTIM = b"precious bytes that no pull may touch\n"


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "elsewhere" / "victim.txt"
    victim.parent.mkdir()
    victim.write_bytes(VICTIM)
    return victim


def test_a_folder_link_inside_the_destination_is_refused_and_nothing_lands_outside(
    engine, tmp_path
):
    digests = engine.seed(tmp_path / "src", 40)
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "d0").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafeDestination) as refused:
        engine(pull.pull, "ds", "1", dest, force=True)
    assert str(dest / "d0") in refused.value.message
    assert "symbolic link" in refused.value.message and str(outside) in refused.value.message
    assert list(outside.iterdir()) == []
    assert any(n.startswith("d0/") for n in digests)  # the link sat where files go


def test_links_planted_at_file_and_temporary_names_leave_their_target_alone(engine, tmp_path):
    digests = engine.seed(tmp_path / "src", 40)
    victim = _victim(tmp_path)
    dest = tmp_path / "dest"
    name = sorted(digests)[0]
    folder = dest / Path(name).parent
    folder.mkdir(parents=True)
    (folder / f".{Path(name).name}.ahoy-partial").symlink_to(victim)  # the old temporary name
    (dest / name).symlink_to(victim)  # and the file's own name
    engine(pull.pull, "ds", "1", dest, force=True)
    assert victim.read_bytes() == VICTIM
    assert not (dest / name).is_symlink()  # replaced by the real file, not written through
    got = {k: v for k, v in pulled_digests(dest).items() if not k.endswith(".ahoy-partial")}
    assert got == digests


def test_the_manifest_file_replaces_a_link_instead_of_following_it(engine, tmp_path):
    engine.seed(tmp_path / "src", 5)
    victim = _victim(tmp_path)
    manifest = tmp_path / "manifest.json"
    manifest.symlink_to(victim)
    engine(pull.pull, "ds", "1", tmp_path / "dest", manifest_out=manifest)
    assert victim.read_bytes() == VICTIM and not manifest.is_symlink()
    assert b'"manifest_hash"' in manifest.read_bytes()


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
