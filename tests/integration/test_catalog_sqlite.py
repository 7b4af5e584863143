"""The SQLite catalog against the Catalog contract, plus what is its own: migrations,
WAL, isolation seen through the services, concurrent writer processes."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.adapters.catalog.migrations import MIGRATIONS
from appliance.adapters.catalog.uow import SqliteCatalog
from appliance.domain.split import SplitConfig
from appliance.errors import Conflict, InvalidInput, NotFound
from appliance.services import datasets, versions
from tests.conftest import Engine, make_tree, read_tree, stage_files
from tests.integration.catalog_contract import CatalogContract

pytestmark = pytest.mark.integration


def test_migrations_apply_once_and_record_their_version(tmp_path):
    path = tmp_path / "c.sqlite"

    async def open_twice() -> int:
        for _ in range(2):
            cat = await SqliteCatalog(path).open()
            version = await cat.db.schema_version()
            await cat.close()
        return version

    assert asyncio.run(open_twice()) == MIGRATIONS[-1][0]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)


def test_workspaces_cannot_see_each_other(local_settings, tmp_path):
    a = Engine(local_settings.with_(workspace="team-a"))
    b = Engine(local_settings.with_(workspace="team-b"))
    src = tmp_path / "src"
    make_tree(src, 5)
    a(datasets.create, "shared-name", "alice")
    a(stage_files, "shared-name", read_tree(src), "alice")
    a(versions.commit, "shared-name", "", "alice")
    assert b(datasets.list_all) == []
    with pytest.raises(NotFound):
        b(versions.show, "shared-name", "1")
    # the same slug in another workspace is a different dataset
    b(datasets.create, "shared-name", "bob")
    assert b(datasets.status, "shared-name").working_files == 0
    assert b.blob_count() == 0 and a.blob_count() == 5


def test_duplicate_slug_and_bad_names(engine):
    engine(datasets.create, "ds", "me")
    with pytest.raises(Conflict, match="already exists"):
        engine(datasets.create, "ds", "me")
    for bad in ("", "Upper", "has space", "../x", "-lead", "x" * 65):
        with pytest.raises(InvalidInput, match="not allowed"):
            engine(datasets.create, bad, "me")
    with pytest.raises(InvalidInput, match="workspace id"):
        Engine(engine.settings.with_(workspace="../etc"))(datasets.list_all)


def test_split_change_is_recorded_per_version(engine, tmp_path):
    src = tmp_path / "src"
    make_tree(src, 50)
    engine(datasets.create, "ds", "me")
    engine(stage_files, "ds", read_tree(src), "me")
    v1 = engine(versions.commit, "ds", "", "me")
    v2 = engine(versions.commit, "ds", "", "me", split=SplitConfig.parse("train=0.5,val=0.5"))
    assert v1.split != v2.split and v2.split.ratios == (("train", 0.5), ("val", 0.5))
    d = engine(versions.diff, "ds", "1", "2")
    assert all(c.kinds == ("split",) for c in d.modified) and not d.added


def test_two_processes_writing_at_once_both_succeed(engine, tmp_path):
    engine(datasets.create, "one", "me")
    engine(datasets.create, "two", "me")
    trees = []
    for i, name in enumerate(("one", "two")):
        src = tmp_path / name
        make_tree(src, 400, size=1024, seed=i)
        trees.append((name, src))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.engine_worker",
                str(engine.settings.data_dir),
                name,
                str(src),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, src in trees
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert engine(datasets.status, "one").working_files == 400
    assert engine(datasets.status, "two").working_files == 400


class TestSqliteCatalog(CatalogContract):
    async def open_catalog(self, tmp_path: Path) -> SqliteCatalog:
        return await SqliteCatalog(tmp_path / "catalog.sqlite").open()
