"""Done-when of the foundation: `ahoy serve` brings up its own weed, and
import → commit → pull round-trips byte for byte through the CLI."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from appliance.runtime.serve import WEED_FILES_EVERY
from tests.conftest import make_tree, pulled_digests, tree_digests

pytestmark = pytest.mark.e2e


def test_import_commit_pull_round_trip(appliance, tmp_path):
    src = tmp_path / "photos"
    expected = make_tree(src, 400, size=30_000)
    big = src / "video" / "clip.mp4"
    big.parent.mkdir()
    big.write_bytes(os.urandom(12 << 20))  # larger than a pack entry: stored loose
    (src / "video" / "copy.mp4").write_bytes(big.read_bytes())  # and streamed under both names
    appliance.ahoy("dataset", "create", "photos")
    report = appliance.ahoy_json("dataset", "import", str(src), "--dataset", "photos")
    assert report["files"] == 402 and report["new_blobs"] == 401
    v1 = appliance.ahoy_json("dataset", "commit", "photos", "-m", "first")
    assert v1["number"] == 1 and v1["file_count"] == 402
    dest = tmp_path / "restored"
    pulled = appliance.ahoy_json("dataset", "pull", "photos", str(dest))
    assert pulled["files"] == 402
    got = pulled_digests(dest)
    assert {k: v for k, v in got.items() if k in expected} == expected
    assert got == tree_digests(src)

    make_tree(src, 30, size=30_000, seed=9, start=400)
    again = appliance.ahoy_json("dataset", "import", str(src), "--dataset", "photos")
    assert again["new_blobs"] == 30 and again["unchanged"] == 402
    appliance.ahoy("dataset", "commit", "photos", "-m", "+30")
    diff = appliance.ahoy_json("dataset", "diff", "photos", "1", "2")
    assert diff["summary"]["added"] == 30 and diff["summary"]["removed"] == 0
    log = appliance.ahoy_json("dataset", "log", "photos")
    assert [v["number"] for v in log] == [2, 1] and log[0]["parent"] == 1
    assert appliance.ahoy_json("verify", "--deep")["ok"] is True


def test_rm_gc_erase_and_tags_through_the_cli(appliance, tmp_path):
    src = tmp_path / "g"
    digests = make_tree(src, 40, size=20_000, seed=5)
    appliance.ahoy("dataset", "create", "gc-demo")
    appliance.ahoy("dataset", "import", str(src), "-d", "gc-demo")
    appliance.ahoy("dataset", "commit", "gc-demo", "-m", "one")
    tagged = appliance.ahoy_json("dataset", "tag", "gc-demo", "golden", "1")
    assert tagged == {"tag": "golden", "version": 1}
    removed = appliance.ahoy_json("dataset", "rm", "gc-demo", "d1/")
    gone = [n for n in digests if n.startswith("d1/")]
    assert sorted(removed["removed"]) == sorted(gone)
    appliance.ahoy("dataset", "commit", "gc-demo", "-m", "two")
    appliance.ahoy("dataset", "rm", "gc-demo", "--version", "1")
    report = appliance.ahoy_json("gc", "--grace", "0")
    assert report["reclaimed_blobs"] >= len(gone)
    victim = sorted(n for n in digests if n not in gone)[0]
    erased = appliance.ahoy_json(
        "erase", "--dataset", "gc-demo", "--file", victim, "--reason", "GDPR 9"
    )
    assert erased["bytes_deleted"] is True and erased["sha256"] == digests[victim]
    pulled = appliance.ahoy_json("dataset", "pull", "gc-demo", str(tmp_path / "p"), "-v", "2")
    assert [e["filename"] for e in pulled["erased"]] == [victim]
    assert pulled["erased"][0]["reason"] == "GDPR 9"  # the tombstone travels with the pull
    assert pulled["files"] == 40 - len(gone) - 1
    assert appliance.ahoy_json("verify", "--deep")["ok"] is True


def test_errors_are_clear_and_exit_non_zero(appliance, tmp_path):
    result = appliance.ahoy("dataset", "commit", "no-such-dataset", check=False)
    assert result.returncode == 4
    assert "dataset 'no-such-dataset' does not exist" in result.stderr
    assert "hint:" in result.stderr
    as_json = appliance.ahoy("dataset", "status", "nope", "--json", check=False)
    assert '"code": "not-found"' in as_json.stdout


def test_a_second_serve_on_the_same_data_dir_is_refused(appliance):
    import subprocess

    from tests.e2e.conftest import BIN

    result = subprocess.run(
        [str(BIN / "ahoy"), "serve"], env=appliance.env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "already running" in result.stderr + result.stdout

    from appliance.bootstrap import serve_is_running
    from appliance.settings import Settings

    assert serve_is_running(Settings(data_dir=appliance.data_dir))
    assert not serve_is_running(Settings(data_dir=appliance.data_dir.parent / "elsewhere"))


def test_a_dead_weed_is_restarted_and_data_survives(appliance, tmp_path):
    src = tmp_path / "s"
    make_tree(src, 20)
    appliance.ahoy("dataset", "create", "restart")
    appliance.ahoy("dataset", "import", str(src), "-d", "restart")
    appliance.ahoy("dataset", "commit", "restart")
    pid = appliance.health()
    import json

    weed = json.loads((appliance.data_dir / "run" / "weed.json").read_text())
    assert weed["master_url"]  # so packs went straight to the volume server
    assert packs_on_volumes(appliance.data_dir)
    os.kill(weed["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        h = appliance.health()
        if h["weed_restarts"] == 1 and h["weed"] == "running":
            break
        time.sleep(1)
    else:
        raise AssertionError(f"weed was not restarted: {appliance.health()}")
    assert pid["status"] == "ok"
    dest = tmp_path / "after"
    appliance.ahoy("dataset", "pull", "restart", str(dest))
    assert pulled_digests(dest) == tree_digests(src)


def test_pull_force_never_writes_through_a_link_in_the_destination(appliance, tmp_path):
    """A folder link inside the destination is refused (nothing lands where it
    points), also where the pull keeps its manifest and label documents; links
    planted at a file's name, its old temporary name or the manifest copy's name
    are replaced, and what they point at stays as it was."""
    src = tmp_path / "src"
    digests = make_tree(src, 14)
    appliance.ahoy("dataset", "create", "links")
    appliance.ahoy("dataset", "import", str(src), "-d", "links")
    appliance.ahoy("dataset", "commit", "links")
    outside, victim = tmp_path / "outside", tmp_path / "victim.txt"
    outside.mkdir()
    victim.write_bytes(b"keep me")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "d0").symlink_to(outside, target_is_directory=True)
    refused = appliance.ahoy("dataset", "pull", "links", str(dest), "--force", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"{dest / 'd0'}: is a symbolic link (to {outside})" in refused.stderr
    assert "hint:" in refused.stderr and list(outside.iterdir()) == []
    meta = tmp_path / "meta"
    meta.mkdir()
    (meta / ".ahoy").symlink_to(outside, target_is_directory=True)
    refused = appliance.ahoy("dataset", "pull", "links", str(meta), "--force", check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"{meta / '.ahoy'}: is a symbolic link" in refused.stderr
    assert list(outside.iterdir()) == []

    (dest / "d0").unlink()
    name = sorted(digests)[0]
    (dest / name).parent.mkdir(parents=True)
    (dest / name).symlink_to(victim)
    (dest / name).with_name(f".{Path(name).name}.ahoy-partial").symlink_to(victim)
    manifest = tmp_path / "manifest.json"
    manifest.symlink_to(victim)
    appliance.ahoy("dataset", "pull", "links", str(dest), "--force", "--manifest", str(manifest))
    assert victim.read_bytes() == b"keep me" and not (dest / name).is_symlink()
    assert not manifest.is_symlink() and b'"manifest_hash"' in manifest.read_bytes()
    pulled = {k: v for k, v in pulled_digests(dest).items() if not k.endswith(".ahoy-partial")}
    assert pulled == digests


def packs_on_volumes(data_dir: Path) -> bool:
    import sqlite3

    from appliance.adapters.seaweed.volume import is_fid
    from appliance.settings import Settings

    db = sqlite3.connect(Settings(data_dir=data_dir).blob_index_path)
    try:
        locators = [r[0] for r in db.execute("SELECT locator FROM objects WHERE kind = 'pack'")]
    finally:
        db.close()
    return bool(locators) and all(is_fid(x) for x in locators)


def test_nothing_under_the_data_dir_is_open_to_other_accounts(appliance):
    """The catalog and its WAL (password and token hashes), the blobs, the logs and
    weed's own files: folders 0700, files 0600, after a busy run. The data dir was
    made 0755 before `ahoy serve` started; serve said so and closed it. (weed writes
    a new volume's .vif 0644 whatever the umask: the supervisor closes those within
    a few seconds.)"""
    deadline = time.monotonic() + 3 * WEED_FILES_EVERY
    while (found := _open_to_others(appliance.data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not found, "\n".join(found)
    assert (appliance.data_dir / "catalog.sqlite-wal").exists()  # among what was checked
    assert f"data dir: folder {appliance.data_dir} was 0755" in appliance.log.read_text()


def _open_to_others(root: Path) -> list[str]:
    import stat

    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for path in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            st = os.lstat(path)
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o077:
                found.append(f"{path} {stat.S_IMODE(st.st_mode):04o}")
    return found


def test_sigterm_stops_the_appliance_and_its_children(appliance):
    """Runs last in this module: it stops the shared appliance."""
    import json

    import psutil

    weed_pid = json.loads((appliance.data_dir / "run" / "weed.json").read_text())["pid"]
    assert appliance.stop() == 0
    assert not psutil.pid_exists(weed_pid) or psutil.Process(weed_pid).status() == "zombie"
    assert not (appliance.data_dir / "run" / "weed.json").exists()
