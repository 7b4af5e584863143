"""Fixtures for tests against real components: one ``weed`` for the session.

Starting weed takes seconds and stopping it ~15 s, so every SeaweedFS test
shares one server and keeps apart by using its own filer root and index file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.adapters.seaweed.process import WeedServer


@pytest.fixture(scope="session")
def weed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedServer]:
    base = tmp_path_factory.mktemp("weed")
    server = WeedServer(base / "data", base / "log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
