"""Fixtures for tests against real components: one ``weed`` for the session, and
one LAN host (a network namespace) per module for the webhook tests.

Starting weed takes seconds and stopping it ~15 s, so every SeaweedFS test
shares one server and keeps apart by using its own filer root and index file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.adapters.seaweed.process import WeedServer
from appliance.export import rknn
from appliance.settings import Settings
from tests.integration.lan import Lan, lan_host


@pytest.fixture(scope="session")
def weed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedServer]:
    base = tmp_path_factory.mktemp("weed")
    server = WeedServer(base / "data", base / "log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lan() -> Iterator[Lan]:
    """A host on a LAN of its own (root only; skips with the reason elsewhere)."""
    with lan_host() as host:
        yield host


@pytest.fixture
def settings(local_settings: Settings, lan: Lan) -> Settings:
    """Local settings that let webhooks reach the LAN host, and only it (what the
    webhook modules run on)."""
    return local_settings.with_(webhook_allow_private=lan.address)


@pytest.fixture(scope="module")
def toolkit() -> str:
    """The RKNN conversion environment's python (``make rknn``); skips, saying how to
    make it, where it is missing."""
    state = rknn.status()
    if not state["available"]:
        pytest.skip(f"{state['reason']} (run `{state['hint']}`)")
    return str(state["toolkit"])
