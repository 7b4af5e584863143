"""An Idempotency-Key's answer is committed with what it made, against a real
`ahoy serve`: kill -9 at any moment around a commit carrying a key, restart, retry
with the key, and there is exactly one new version, and the retry replays its
answer; duplicates racing with one key make one version too."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.api.conftest import Api, Server, set_up_admin, sha, tar_of

pytestmark = pytest.mark.api

WS = "/v1/workspaces/once"
DS = WS + "/datasets/crash"
#: Enough files that a commit takes a while to freeze and write.
FILES = 4000
_OCTETS = {"Content-Type": "application/octet-stream"}


def _fill(admin: Api) -> None:
    admin.ok("POST", "/v1/workspaces", 201, json={"id": "once"})
    admin.ok("POST", WS + "/datasets", 201, json={"name": "crash"})
    blobs = {f"file {i}".encode(): f"many/{i:05d}.jpg" for i in range(FILES)}
    tar = tar_of({sha(data): data for data in blobs})
    admin.ok("POST", WS + "/blobs", data=tar, headers={"Content-Type": "application/x-tar"})
    staged = [{"name": n, "sha256": sha(d), "size": len(d)} for d, n in blobs.items()]
    admin.ok("POST", DS + "/working/files", json={"files": staged})


def _change(admin: Api, n: int) -> None:
    data = f"change {n}".encode()
    admin.ok("PUT", f"{WS}/blobs/{sha(data)}", data=data, headers=_OCTETS)
    staged = [{"name": f"changes/{n}.jpg", "sha256": sha(data), "size": len(data)}]
    admin.ok("POST", DS + "/working/files", json={"files": staged})


def _versions(server: Server) -> list[int]:
    return [r[0] for r in server.sql("SELECT number FROM dataset_versions ORDER BY number")]


def _commit(admin: Api, key: str) -> requests.Response:
    return admin.post(DS + "/versions", json={"message": key}, headers={"Idempotency-Key": key})


def _try(admin: Api, key: str, answers: list[requests.Response]) -> None:
    with contextlib.suppress(requests.ConnectionError):  # killed before it answered
        answers.append(_commit(admin, key))


def _kill_9(server: Server) -> None:
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait()


def _after(delay: float) -> Callable[[Server, int], None]:
    def wait(server: Server, before: int) -> None:
        time.sleep(delay)

    return wait


def _on_sight(server: Server, before: int) -> None:
    """The moment the new version is visible to another reader of the catalog
    (one connection, polled as fast as it answers)."""
    db = sqlite3.connect(server.catalog, timeout=30, isolation_level=None)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            (count,) = db.execute("SELECT COUNT(*) FROM dataset_versions").fetchone()
            if count > before:
                return
    finally:
        db.close()


def _moments(took: float) -> dict[str, Callable[[Server, int], None] | None]:
    """When the kill lands, for a commit that takes ``took`` seconds when let be:
    at fractions of that after the request is sent (before it is read, while it
    commits, after it answered), as soon as its version is visible, or never."""
    fractions = (0.0, 0.3, 0.6, 0.9, 1.2)
    return {
        **{f"at-{f:.1f}": _after(f * took) for f in fractions},
        "on-sight-of-the-version": _on_sight,
        "after-the-answer": None,
    }


def test_a_kill_9_around_a_keyed_commit_then_a_retry_makes_exactly_one_version(
    own_server: Server,
):
    admin = set_up_admin(own_server)
    _fill(admin)
    started = time.monotonic()
    admin.ok("POST", DS + "/versions", 201, json={"message": "unkeyed, to time a commit"})
    took = time.monotonic() - started
    for n, (moment, wait) in enumerate(_moments(took).items()):
        _change(admin, n)
        before = len(_versions(own_server))
        first: list[requests.Response] = []
        sender = threading.Thread(target=_try, args=(admin, moment, first))
        sender.start()
        if wait is None:
            sender.join()
        else:
            wait(own_server, before)
        _kill_9(own_server)
        sender.join()
        landed = len(_versions(own_server)) - before
        keys = own_server.sql("SELECT COUNT(*) FROM idempotency_keys WHERE key = ?", moment)
        assert keys == [(landed,)], f"{moment}: version and answer are not committed together"

        own_server.start()
        retry = _commit(admin, moment)
        assert retry.status_code == 201, f"{moment}: {retry.status_code} {retry.text}"
        assert len(_versions(own_server)) == before + 1, moment
        assert retry.json()["number"] == _versions(own_server)[-1]
        assert (retry.headers.get("Idempotency-Replayed") == "true") == bool(landed), moment
        if first:
            assert first[0].status_code == 201 and first[0].json() == retry.json(), moment


def test_duplicates_racing_with_one_key_make_one_version(own_server: Server):
    admin = set_up_admin(own_server)
    admin.ok("POST", "/v1/workspaces", 201, json={"id": "once"})
    admin.ok("POST", WS + "/datasets", 201, json={"name": "crash"})
    callers = 8
    start = threading.Barrier(callers)
    answers: list[requests.Response] = []

    def send() -> None:
        api = Api(admin.url, admin.token)  # a connection each
        start.wait()
        body: dict[str, Any] = {"message": "race", "allow_empty": True}
        answers.append(api.post(DS + "/versions", json=body, headers={"Idempotency-Key": "r"}))

    threads = [threading.Thread(target=send) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [a.status_code for a in answers] == [201] * callers
    assert all(a.json() == answers[0].json() for a in answers)
    assert [a.headers.get("Idempotency-Replayed") for a in answers].count(None) == 1
    assert _versions(own_server) == [1]


def test_job_submissions_racing_with_one_key_queue_one_job(own_server: Server):
    """A governed job's row and its key's answer commit together too."""
    admin = set_up_admin(own_server)
    admin.ok("POST", "/v1/workspaces", 201, json={"id": "once"})
    callers = 6
    start = threading.Barrier(callers)
    answers: list[requests.Response] = []

    def send() -> None:
        api = Api(admin.url, admin.token)
        start.wait()
        answers.append(api.post(WS + "/verify", json={}, headers={"Idempotency-Key": "v"}))

    threads = [threading.Thread(target=send) for _ in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [a.status_code for a in answers] == [202] * callers
    assert len({a.json()["id"] for a in answers}) == 1
    assert [a.headers.get("Idempotency-Replayed") for a in answers].count(None) == 1
    assert own_server.sql("SELECT count(*) FROM jobs WHERE kind = 'verify'") == [(1,)]
