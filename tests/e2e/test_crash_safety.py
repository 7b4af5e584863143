"""kill -9 of `ahoy serve`, or of the `ahoy` command talking to it, at any moment of
an upload, a commit or a pull leaves no half version, no reference to a missing
blob and no partial file; a failed upload leaves the store as it was (once `ahoy
gc` has swept the whole blobs it sent), and running it again commits to the
manifest_hash an uninterrupted one gives.

Kill points are states seen from outside, where they can be: a share of the
upload's blobs in the store, files in a pull's folder. Kills during a commit are
timed against how long an uninterrupted commit of the same size took."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.adapters.blobs.local import LocalBlobStore
from appliance.domain.manifest import WorkingFile, fingerprint, freeze
from appliance.domain.names import role_for
from appliance.domain.pulled import fingerprint_of
from appliance.domain.split import SplitConfig
from appliance.sdk import ApiError, Client, upload
from appliance.settings import Settings
from tests.conftest import make_tree, pulled_digests, tree_digests
from tests.e2e.conftest import BIN, Appliance

pytestmark = pytest.mark.e2e

#: Enough for an upload and a pull to take a second or so on loopback, so a kill
#: lands in the middle of them; little enough for the SDK to send in one request.
FILES, SIZE = 1000, 4096
#: 48 MB to export: many times what loopback sockets buffer
EXPORT_FILES, EXPORT_SIZE = 120, 400_000
assert FILES < upload.PIPE_BATCH_FILES and FILES * SIZE < upload.PIPE_BATCH_BYTES


def _client(app: Appliance) -> Client:
    """A new SDK client: one from before a restart holds connections to the dead server."""
    assert app.client is not None
    return Client(app.url, app.client.token, workspace="default")


def _cli(app: Appliance, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "ahoy"), *args],
        env=app.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(ready: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    """Polls until ``ready``; fails if ``proc`` ended first (the kill point was missed)."""
    deadline = time.monotonic() + 60
    while not ready():
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"the command ended before {what}: {err}")
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.005)


def _eventually(ready: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)


def _listed(app: Appliance) -> set[str]:
    """The digests in the local blob store, listed only (cheap enough to poll)."""
    store = LocalBlobStore(Settings(data_dir=app.data_dir).blob_dir)
    return {b.sha256 for b in store.list_blobs("default")}


def _restart(app: Appliance) -> Client:
    app.start()
    return _client(app)


def _catalog(app: Appliance) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{app.data_dir / 'catalog.sqlite'}?mode=ro", uri=True)


def _snapshot(app: Appliance) -> tuple[list[tuple[object, ...]], ...]:
    """What users see of the data: every file record, working area and version."""
    db = _catalog(app)
    try:
        return tuple(
            db.execute(sql).fetchall()
            for sql in (
                "SELECT sha256, size FROM files ORDER BY sha256",
                "SELECT dataset_id, filename, sha256 FROM dataset_files ORDER BY 1, 2",
                "SELECT dataset_id, number, manifest_hash, file_count FROM dataset_versions"
                " ORDER BY 1, 2",
            )
        )
    finally:
        db.close()


def _check_consistent(app: Appliance, c: Client) -> set[str]:
    """No half-written version, every referenced blob in the store and whole, and the
    verify job clean. Returns the digests the store holds."""
    db = _catalog(app)
    try:
        for vid, count in db.execute("SELECT id, file_count FROM dataset_versions"):
            (rows,) = db.execute(
                "SELECT COUNT(*) FROM version_files WHERE version_id = ?", (vid,)
            ).fetchone()
            assert rows == count, f"version {vid} is half written: {rows}/{count} rows"
        referenced = {
            sha
            for (sha,) in db.execute(
                "SELECT sha256 FROM dataset_files UNION SELECT sha256 FROM version_files"
            )
        }
        recorded = {sha for (sha,) in db.execute("SELECT sha256 FROM files")}
    finally:
        db.close()
    stored = app.stored_blobs()  # each read back and checked: no partial blob is visible
    assert referenced <= recorded, f"{len(referenced - recorded)} references without a record"
    assert referenced <= stored, f"{len(referenced - stored)} referenced blobs are missing"
    result = c.wait_job(None, c.verify(None)["id"])["result"]
    assert result["ok"] is True, result
    return stored


def _expected_hash(c: Client, dataset: str, digests: dict[str, str]) -> str:
    """The manifest_hash of these files committed with the dataset's split, by definition."""
    split = SplitConfig.from_dict(c.get_dataset(None, dataset)["split"])
    files = [WorkingFile(name, sha, None, role_for(name)) for name, sha in digests.items()]
    return fingerprint(freeze(files, split))


def _gc(c: Client) -> dict[str, object]:
    return c.wait_job(None, c.gc(None, 0)["id"])["result"]


@pytest.mark.parametrize(
    ("victim", "share"),
    [("serve", 0.3), ("ahoy", 0.3), ("serve", 1.0)],
    ids=["serve-mid-upload", "cli-mid-upload", "serve-as-staging-starts"],
)
def test_kill_9_during_an_upload_then_the_retry_commits(
    local_appliance: Appliance, tmp_path: Path, victim: str, share: float
):
    app, c = local_appliance, _client(local_appliance)
    dataset = f"up-{victim}-{int(share * 100)}"
    c.create_dataset(None, dataset)
    src = tmp_path / "src"
    digests = make_tree(src, FILES, size=SIZE, seed=int(share * 10) + len(victim))
    before, stored_before = _snapshot(app), app.stored_blobs()
    wanted = int(share * len(set(digests.values())))

    cli = _cli(app, "dataset", "import", str(src), "-d", dataset)
    _wait_until(
        lambda: len(_listed(app) - stored_before) >= wanted,
        cli,
        f"{wanted} of its blobs in the store",
    )
    if victim == "serve":
        app.kill()
        _, err = cli.communicate(timeout=60)
        assert cli.returncode != 0 and "Traceback" not in err, err
        assert "hint:" in err
        c = _restart(app)
    else:
        cli.kill()
        cli.wait()
        # One request carried the upload (FILES): the appliance stores all of it (the
        # body was already on its way) or takes back what it had stored. Wait for either.
        whole = stored_before | set(digests.values())
        _eventually(lambda: _listed(app) in (stored_before, whole), "the cut upload settled")

    stored = _check_consistent(app, c)
    assert stored - stored_before <= set(digests.values())  # whole blobs of this upload only
    working = {f["filename"]: f["sha256"] for f in c.working_files(None, dataset)}
    if working:  # the kill came after staging, which is all or nothing
        assert working == digests
    else:
        assert _snapshot(app) == before
        _gc(c)  # sweeps the whole blobs the failed upload left
        assert app.stored_blobs() == stored_before

    again = c.upload_tree(None, dataset, src)
    assert again.staged["added"] + again.staged["unchanged"] == FILES
    version = c.commit(None, dataset, "after a kill")
    assert version["manifest_hash"] == _expected_hash(c, dataset, digests)


def test_kill_9_of_serve_during_commits_never_leaves_half_a_version(
    local_appliance: Appliance, tmp_path: Path
):
    """Many names over a few blobs: the commit, not the upload, is what takes time."""
    app, c = local_appliance, _client(local_appliance)
    c.create_dataset(None, "commits")
    blobs = make_tree(tmp_path / "few", 10, size=64, seed=99)
    c.upload_tree(None, "commits", tmp_path / "few")
    shas = sorted(set(blobs.values()))
    many = {f"many/{i:05d}.jpg": shas[i % len(shas)] for i in range(20_000)}
    c.stage_files(None, "commits", [{"name": n, "sha256": s, "size": 64} for n, s in many.items()])
    names = blobs | many
    started = time.monotonic()
    c.commit(None, "commits", "uninterrupted")
    took = time.monotonic() - started
    for i, share in enumerate((0.3, 0.7)):
        extra = {f"extra/{i}.jpg": shas[i]}
        c.stage_files(
            None, "commits", [{"name": n, "sha256": s, "size": 64} for n, s in extra.items()]
        )
        names |= extra
        versions_before = len(list(c.list_versions(None, "commits")))
        commit = threading.Thread(target=_commit_ignoring_the_kill, args=(_client(app),))
        commit.start()
        time.sleep(share * took)
        app.kill()
        commit.join(timeout=60)
        c = _restart(app)
        _check_consistent(app, c)
        versions = list(c.list_versions(None, "commits"))
        if len(versions) == versions_before:  # killed before it committed: commit again
            versions = [c.commit(None, "commits", "after a kill"), *versions]
        assert len(versions) == versions_before + 1
        assert versions[0]["file_count"] == len(names)
        assert versions[0]["manifest_hash"] == _expected_hash(c, "commits", names)


def _commit_ignoring_the_kill(c: Client) -> None:
    try:
        c.commit(None, "commits", "killed or not")
    except ApiError:
        pass  # the appliance died under it
    finally:
        c.close()


@pytest.fixture(scope="module")
def pulled_version(
    local_appliance: Appliance, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """A committed version of FILES files to pull: name → sha256."""
    src = tmp_path_factory.mktemp("pull-src")
    digests = make_tree(src, FILES, size=SIZE, seed=42)
    c = _client(local_appliance)
    c.create_dataset(None, "pulled")
    c.upload_tree(None, "pulled", src)
    c.commit(None, "pulled", "to pull")
    c.close()
    return digests


@pytest.mark.parametrize("victim", ["serve", "ahoy"])
def test_kill_9_during_a_pull_leaves_only_whole_verified_files(
    local_appliance: Appliance, pulled_version: dict[str, str], tmp_path: Path, victim: str
):
    app = local_appliance
    dest = tmp_path / "dest"
    one_folder = dest / "d0" / "sub0"
    in_folder = sum(1 for n in pulled_version if n.startswith("d0/sub0/"))
    pull = _cli(app, "dataset", "pull", "pulled", str(dest))
    _wait_until(
        lambda: one_folder.is_dir() and len(list(one_folder.iterdir())) >= in_folder // 3,
        pull,
        "a third of one folder's files written",
    )
    if victim == "serve":
        app.kill()
        _, err = pull.communicate(timeout=60)
        assert pull.returncode != 0 and "Traceback" not in err, err
        assert "broke after" in err and "hint: pull again" in err
        c = _restart(app)
    else:
        pull.kill()
        pull.wait()
        c = _client(app)

    written = {n: d for n, d in tree_digests(dest).items() if not n.endswith(".ahoy-partial")}
    assert written and written.items() <= pulled_version.items()  # whole and verified
    _check_consistent(app, c)
    app.ahoy("dataset", "pull", "pulled", str(dest), "--force")
    got = {n: d for n, d in pulled_digests(dest).items() if not n.endswith(".ahoy-partial")}
    assert got == pulled_version
    doc = json.loads((dest / ".ahoy" / "manifest.json").read_text())
    assert fingerprint_of(doc) == c.get_version(None, "pulled", 1)["manifest_hash"]


@pytest.fixture(scope="module")
def exported_version(local_appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> int:
    """A committed version larger than what the sockets between the appliance and a
    client can buffer (a few MB), so that an export cannot be all sent ahead."""
    src = tmp_path_factory.mktemp("export-src")
    make_tree(src, EXPORT_FILES, size=EXPORT_SIZE, seed=43)
    c = _client(local_appliance)
    c.create_dataset(None, "exported")
    c.upload_tree(None, "exported", src)
    c.commit(None, "exported", "to export")
    c.close()
    return EXPORT_FILES


def test_kill_9_during_an_export_ends_with_a_clear_error(
    local_appliance: Appliance, exported_version: int, tmp_path: Path
):
    app = local_appliance
    dest = tmp_path / "export"
    export = _cli(app, "dataset", "export", "exported", str(dest))
    _wait_until(
        lambda: dest.is_dir() and any(p.is_file() for p in dest.rglob("*")),
        export,
        "the export's first file written",
    )
    # Paused, the command reads nothing more: the appliance fills the socket
    # buffers and waits, with most of the export unsent, when it is killed.
    export.send_signal(signal.SIGSTOP)
    time.sleep(0.5)
    app.kill()
    export.send_signal(signal.SIGCONT)
    _, err = export.communicate(timeout=60)
    assert export.returncode != 0 and "Traceback" not in err, err
    assert "hint: export again" in err, err
    _check_consistent(app, _restart(app))
