"""A failed import leaves the store exactly as it was: catalog and blobs."""

from __future__ import annotations

import pytest

from appliance.errors import ImportRejected, StorageFull
from appliance.services import datasets, erasure, importing
from tests.conftest import make_tree, tmpfs

pytestmark = pytest.mark.integration


@pytest.fixture
def small_blob_disk(local_settings):
    """The blob dir on a 2 MiB tmpfs, so the disk really fills up."""
    with tmpfs(local_settings.blob_dir, "2m") as where:
        yield where


def test_full_disk_is_a_clear_error_and_stores_nothing(engine, tmp_path, small_blob_disk):
    engine(datasets.create, "ds", "me")
    first = tmp_path / "first"
    make_tree(first, 5, size=10_000)
    engine(importing.import_tree, "ds", first, "me")
    before = (engine(datasets.status, "ds").working_files, engine.blob_count())
    big = tmp_path / "big"
    make_tree(big, 60, size=60_000, seed=3)  # 3.6 MB into what is left of 2 MiB
    with pytest.raises(StorageFull) as info:
        engine(importing.import_tree, "ds", big, "me")
    assert "no space left" in info.value.message and "nothing was stored" in info.value.hint
    assert (engine(datasets.status, "ds").working_files, engine.blob_count()) == before


def test_erased_content_cannot_come_back(engine, tmp_path):
    src = tmp_path / "src"
    digests = engine.seed(src, 3)
    victim = sorted(digests)[0]
    engine(erasure.erase, "dpo", "request 7", dataset="ds", filename=victim)
    blobs = engine.blob_count()
    with pytest.raises(ImportRejected, match="was erased"):
        engine(importing.import_tree, "ds", src, "me")
    assert engine.blob_count() == blobs


def test_blob_store_down_is_a_clear_error(local_settings, tmp_path):
    """The appliance's weed is gone (its state file points at a dead port)."""
    import json
    import socket

    from appliance.errors import BlobStoreUnavailable
    from tests.conftest import Engine

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    settings = local_settings.with_(blob_store="seaweedfs")
    settings.run_dir.mkdir(parents=True)
    (settings.run_dir / "weed.json").write_text(
        json.dumps({"filer_url": f"http://127.0.0.1:{dead}", "pid": 1})
    )
    src = tmp_path / "src"
    make_tree(src, 3)
    with pytest.raises(BlobStoreUnavailable) as info:
        Engine(settings)(importing.import_tree, "ds", src, "me")
    assert f"127.0.0.1:{dead}" in info.value.message
    assert "ahoy serve" in info.value.hint
