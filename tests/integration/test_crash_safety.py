"""kill -9 at any moment of an import or a commit leaves no half version and no
reference to a missing blob; re-running completes the work."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from appliance.services import datasets, gc, importing, pull, versions
from tests.conftest import make_tree, pulled_digests

pytestmark = pytest.mark.integration


def _worker(settings, verb, dataset, arg):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.engine_worker",
            str(settings.data_dir),
            settings.blob_store,
            verb,
            dataset,
            arg,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _check_invariants(settings):
    db = sqlite3.connect(settings.catalog_path)
    try:
        for vid, count in db.execute("SELECT id, file_count FROM dataset_versions"):
            (rows,) = db.execute(
                "SELECT COUNT(*) FROM version_files WHERE version_id = ?", (vid,)
            ).fetchone()
            assert rows == count, f"version {vid} is half written: {rows}/{count} rows"
        dangling = db.execute(
            "SELECT COUNT(*) FROM dataset_files df JOIN datasets d ON d.id = df.dataset_id"
            " LEFT JOIN files f ON f.workspace_id = d.workspace_id AND f.sha256 = df.sha256"
            " WHERE f.sha256 IS NULL"
        ).fetchone()[0]
        assert dangling == 0
    finally:
        db.close()


def _kill_after(proc, delay):
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_kill_9_during_import_then_rerun_completes(engine, tmp_path):
    src = tmp_path / "src"
    expected = make_tree(src, 6000, size=4096)
    engine(datasets.create, "ds", "me")
    # Worker start-up takes ~0.2 s and the whole import ~1 s: these land throughout it.
    for delay in (0.25, 0.4, 0.55, 0.7, 0.85, 1.0):
        _kill_after(_worker(engine.settings, "import", "ds", str(src)), delay)
        _check_invariants(engine.settings)
        assert engine(gc.verify, deep=True).ok  # nothing referenced is missing
    report = engine(importing.import_tree, "ds", src, "me")
    engine(versions.commit, "ds", "", "me")
    _check_invariants(engine.settings)
    assert engine.blob_count() == 6000
    dest = tmp_path / "out"
    engine(pull.pull, "ds", "latest", dest)
    assert pulled_digests(dest) == expected
    assert report.files == 6000


def test_kill_9_during_commits_never_leaves_half_versions(engine, tmp_path):
    src = tmp_path / "src"
    make_tree(src, 20000, size=16)
    engine(datasets.create, "ds", "me")
    engine(importing.import_tree, "ds", src, "me")
    for i, delay in enumerate([0.2, 0.3, 0.4, 0.5, 0.6, 0.8]):
        (src / f"extra_{i}.bin").write_bytes(os.urandom(32))
        engine(importing.import_tree, "ds", src, "me")
        _kill_after(_worker(engine.settings, "commit", "ds", f"try {i}"), delay)
        _check_invariants(engine.settings)
    assert engine(gc.verify).ok
    status = engine(datasets.status, "ds")
    if not status.changes.is_empty:
        engine(versions.commit, "ds", "final", "me")
    _check_invariants(engine.settings)
    assert engine(datasets.status, "ds").changes.is_empty
