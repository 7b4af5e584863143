"""A command on the box whose appliance's blob store is down says so clearly."""

from __future__ import annotations

import json
import socket

import pytest

from appliance.errors import BlobStoreUnavailable
from appliance.services import datasets
from tests.conftest import Engine

pytestmark = pytest.mark.integration


def test_blob_store_down_is_a_clear_error(local_settings):
    """The appliance's weed is gone (its state file points at a dead port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    settings = local_settings.with_(blob_store="seaweedfs")
    settings.run_dir.mkdir(parents=True)
    (settings.run_dir / "weed.json").write_text(
        json.dumps({"filer_url": f"http://127.0.0.1:{dead}", "pid": 1})
    )
    with pytest.raises(BlobStoreUnavailable) as info:
        Engine(settings)(datasets.list_all)
    assert f"127.0.0.1:{dead}" in info.value.message
    assert "ahoy serve" in info.value.hint
