"""Storage jobs (gc, verify) watched over Server-Sent Events: every watcher sees
the stream through to the job's end, and the server logs no traceback doing it."""

from __future__ import annotations

import json
import threading

import pytest

from tests.conftest import assert_no_server_tracebacks, make_tree
from tests.e2e.conftest import Appliance

pytestmark = pytest.mark.e2e


def _events(appliance: Appliance, job_id: str) -> list[tuple[str, dict]]:
    assert appliance.client is not None
    return [
        (ev.event, json.loads(ev.data) if ev.data else {})
        for ev in appliance.client.job_events(None, job_id)
    ]


@pytest.fixture(scope="module")
def stored(appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Enough blobs that a deep verify is still running when its watchers arrive."""
    src = tmp_path_factory.mktemp("many")
    make_tree(src, 3000, size=4096)
    appliance.ahoy("dataset", "create", "many")
    appliance.ahoy("dataset", "import", str(src), "--dataset", "many")


@pytest.mark.parametrize("kind", ["gc", "verify"])
def test_watchers_of_a_storage_job_see_it_end(appliance: Appliance, stored: None, kind: str):
    client = appliance.client
    assert client is not None
    job = client.gc(None, 0, True) if kind == "gc" else client.verify(None, deep=True)
    seen: list[list[tuple[str, dict]]] = []
    watchers = [
        threading.Thread(target=lambda: seen.append(_events(appliance, job["id"])))
        for _ in range(3)
    ]
    for w in watchers:
        w.start()
    for w in watchers:
        w.join(timeout=60)
    assert len(seen) == 3
    for events in seen:
        kind_, last = events[-1]
        assert kind_ == "state" and last["job"]["state"] == "succeeded", events

    done = appliance.ahoy(kind, *(["--dry-run"] if kind == "gc" else []))
    assert done.returncode == 0
    assert_no_server_tracebacks(appliance.log)
