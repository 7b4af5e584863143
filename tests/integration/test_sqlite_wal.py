"""Many openers racing to switch a brand-new SQLite file to WAL all succeed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

OPENER = """
import sqlite3, sys
from appliance.sqlite_wal import enable_wal
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
enable_wal(db.execute)
db.execute("CREATE TABLE IF NOT EXISTS t (x)")
db.execute("INSERT INTO t VALUES (1)")
"""


def test_concurrent_first_openers_all_get_wal(tmp_path):
    for round_ in range(5):
        path = tmp_path / f"new-{round_}.sqlite"
        procs = [
            subprocess.Popen([sys.executable, "-c", OPENER, str(path)], stderr=subprocess.PIPE)
            for _ in range(6)
        ]
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err.decode()
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 6
