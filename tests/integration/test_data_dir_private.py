"""The data dir is the appliance's alone: what the appliance makes there is 0700 /
0600, and what it finds open to other accounts it closes, saying so.
(A whole `ahoy serve`, weed included, is checked in tests/e2e/test_cli_roundtrip.)"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.data_dir import tighten, tighten_tree

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_an_on_box_command_makes_a_private_catalog_whatever_the_umask(tmp_path):
    """`ahoy admin init` opens the catalog itself (the appliance may be stopped):
    the data dir, the catalog and its WAL come out private under a 022 umask."""
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AHOY_")}
    done = subprocess.run(
        [str(BIN / "ahoy"), "admin", "init", "--username", "root", "--password-stdin"],
        input="a-long-enough-password\n",
        env={**env, "AHOY_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    made = [data, *data.rglob("*")]
    assert data / "catalog.sqlite" in made
    opened = [f"{p} {_mode(p):04o}" for p in made if _mode(p) & 0o077]
    assert not opened, opened


def test_start_closes_what_it_finds_open_and_says_what_it_was(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    for name in ("catalog.sqlite", "catalog.sqlite-wal"):
        (data / name).write_bytes(b"")
        os.chmod(data / name, 0o644)
    (data / "blobs").mkdir()
    os.chmod(data / "blobs", 0o775)
    (data / "link").symlink_to("/etc/hostname")
    lines = tighten(data)
    assert _mode(data) == 0o700 and _mode(data / "blobs") == 0o700
    assert _mode(data / "catalog.sqlite") == _mode(data / "catalog.sqlite-wal") == 0o600
    assert f"folder {data} was 0755 (open to other accounts on this box); now 0700" in lines
    assert f"file {data / 'catalog.sqlite'} was 0644 (open to other accounts on this box);" in (
        " ".join(lines)
    )
    assert len(lines) == 4 and tighten(data) == []  # the link was left alone


def test_a_tree_pass_closes_every_file_and_folder_below(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "1.vif").write_bytes(b"{}")
    os.chmod(tmp_path / "a" / "b" / "1.vif", 0o644)
    os.chmod(tmp_path / "a", 0o755)
    assert tighten_tree(tmp_path) >= 2
    assert _mode(tmp_path / "a") == 0o700 and _mode(tmp_path / "a" / "b" / "1.vif") == 0o600
