"""Failed logins are throttled per account and per source address: a clear 429
problem with Retry-After, that slows guessing without locking anyone out for good,
and leaves other accounts and other sources alone.

Calls come from distinct loopback addresses (127.0.0.2, ...) to play distinct
sources; the appliance sees each as the TCP peer it is."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.api.conftest import PASSWORD, Server, set_up_admin
from tests.api.problems import assert_problem

pytestmark = pytest.mark.api

PER_ACCOUNT, PER_SOURCE, WINDOW = 5, 12, 30.0  # a try back every 6 s / 2.5 s
USERS = ("carol", "dave", "erin", "frank")


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Client:
    """Logins from one source address."""

    def __init__(self, server: Server, address: str) -> None:
        self.url = server.url + "/v1/sessions"
        self.http = requests.Session()
        self.http.mount("http://", _FromAddress(address))

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        body = {"username": username, "password": password}
        return self.http.post(self.url, json=body, timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(
        tmp_path_factory.mktemp("logins"),
        blob_store="local",
        AHOY_LOGIN_FAILURES_PER_ACCOUNT=str(PER_ACCOUNT),
        AHOY_LOGIN_FAILURES_PER_SOURCE=str(PER_SOURCE),
        AHOY_LOGIN_FAILURE_WINDOW_SECONDS=str(WINDOW),
        AHOY_REFUSAL_AUDIT_SECONDS="1",
    )
    server.start()
    try:
        admin = set_up_admin(server)
        for name in USERS:
            admin.ok("POST", "/v1/users", 201, json={"username": name, "password": PASSWORD})
        yield server
    finally:
        server.stop()


def _throttled(r: requests.Response, scope: str) -> int:
    problem = assert_problem(r, 429, "too-many-logins")
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= WINDOW and problem["retry_after"] == wait
    assert scope in problem["detail"] and problem["hint"], problem
    return wait


def test_wrong_passwords_are_slowed_then_the_right_one_works(server: Server):
    me = Client(server, "127.0.0.1")
    start = time.monotonic()
    answers = [me.login("carol", "not-carols-password") for _ in range(30)]
    spent = time.monotonic() - start
    statuses = [r.status_code for r in answers]

    # A burst of PER_ACCOUNT tries (and the few earned back meanwhile), then 429s.
    wrong = statuses.count(401)
    assert PER_ACCOUNT <= wrong <= PER_ACCOUNT + spent / (WINDOW / PER_ACCOUNT) + 1, statuses
    assert statuses == [401] * wrong + [429] * (30 - wrong), statuses
    wait = _throttled(answers[-1], "to this account")
    # While throttled, the right password is not even checked (or guessing would go on).
    _throttled(me.login("carol"), "to this account")

    # Another account, from the same source, is not slowed by carol's.
    assert me.login("dave").status_code == 201
    assert_problem(me.login("dave", "not-daves-password"), 401, "unauthenticated")

    time.sleep(wait)
    assert me.login("carol").status_code == 201


def test_concurrent_guesses_cannot_outrun_the_throttle(server: Server):
    me = Client(server, "127.0.0.4")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: me.login("erin", "a-guess-at-once"), range(40)))
    statuses = [r.status_code for r in answers]
    assert statuses.count(401) <= PER_ACCOUNT + 2, statuses
    assert statuses.count(429) >= 40 - PER_ACCOUNT - 2


def test_one_source_guessing_many_accounts_is_slowed_others_are_not(server: Server):
    guesser, bystander = Client(server, "127.0.0.2"), Client(server, "127.0.0.3")
    start = time.monotonic()
    answers = [guesser.login(f"nobody-{i}", "some-guess-or-other") for i in range(PER_SOURCE + 5)]
    spent = time.monotonic() - start
    statuses = [r.status_code for r in answers]
    wrong = statuses.count(401)
    assert PER_SOURCE <= wrong <= PER_SOURCE + spent / (WINDOW / PER_SOURCE) + 1, statuses
    assert statuses == [401] * wrong + [429] * (len(answers) - wrong), statuses
    _throttled(answers[-1], "from your address")
    # The guesser's address is slowed for every account; another address is not.
    _throttled(guesser.login("frank"), "from your address")
    assert bystander.login("frank").status_code == 201


def test_an_account_under_attack_slows_but_does_not_lock(server: Server):
    attacker, owner = Client(server, "127.0.0.5"), Client(server, "127.0.0.6")
    for _ in range(PER_ACCOUNT):
        assert attacker.login("frank", "frank-guess-1234").status_code == 401
    # The per-account rule applies from every source (or a botnet would guess freely)...
    wait = _throttled(owner.login("frank"), "to this account")
    # ...but it slows: one more try comes back within the window, and it is the owner's.
    assert wait <= WINDOW / PER_ACCOUNT + 1
    time.sleep(wait)
    assert owner.login("frank").status_code == 201


def test_failed_logins_are_audited_as_summaries_not_one_entry_each(server: Server):
    time.sleep(2.5)  # the last windows close and are written
    per_try = server.sql(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'session.create' AND outcome = 'denied'"
    )
    assert per_try == [(0,)]
    rows = server.sql(
        "SELECT target, detail_json FROM audit_log WHERE actor = 'anonymous'"
        " AND action = 'authenticate' AND outcome = 'denied'"
    )
    carol = sum(json.loads(d)["accounts"].get("carol", 0) for t, d in rows)
    assert carol >= 30  # every wrong try and every throttled one is counted
    sources = {t for t, _ in rows}
    assert {"source:127.0.0.1", "source:127.0.0.2"} <= sources
    reasons = {r for _, d in rows for r in json.loads(d)["reasons"]}
    assert {"wrong user name or password", "login throttled (account)"} <= reasons
