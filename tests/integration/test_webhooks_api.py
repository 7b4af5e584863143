"""The webhook endpoints, in process: real app, real catalog, real receiver.

Deliveries go to a receiver on a LAN host (``tests.integration.lan``) that the
settings allow-list; registrations that must be refused need no receiver at all.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from appliance.bootstrap import open_services
from appliance.services import accounts
from appliance.services.context import ServiceContext
from appliance.services.webhooks import WebhookDispatcher
from appliance.settings import Settings
from appliance.web.app import create_app
from tests.integration.lan import Lan
from tests.integration.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
HOOKS = "/v1/workspaces/default/webhooks"

Scenario = Callable[
    [AsyncTestClient[Any], dict[str, str], ServiceContext, Receiver], Awaitable[None]
]


def api(settings: Settings, scenario: Scenario, lan: Lan | None = None) -> None:
    async def main() -> None:
        async with open_services(settings) as ctx:
            await accounts.init_admin(ctx, "admin", PASSWORD)
            app = create_app(ctx, lambda: {"status": "ok"})
            async with AsyncTestClient(app) as client:
                login = {"username": "admin", "password": PASSWORD}
                token = (await client.post("/v1/sessions", json=login)).json()["token"]
                await scenario(client, {"Authorization": f"Bearer {token}"}, ctx, rx)

    with receiver(lan) as rx:
        asyncio.run(main())


def test_create_list_deliveries_delete(settings: Settings, lan: Lan):
    async def scenario(
        client: AsyncTestClient[Any], auth: dict[str, str], ctx: ServiceContext, rx: Receiver
    ) -> None:
        body = {"url": rx.url + "/hook", "events": ["dataset.*", "version.created"]}
        r = await client.post(HOOKS, json=body, headers=auth)
        assert r.status_code == 201, r.text
        created = r.json()
        secret = created["secret"]
        assert len(secret) >= 40
        assert created["url"] == body["url"]
        assert created["events"] == body["events"]

        listed = (await client.get(HOOKS, headers=auth)).json()
        assert [h["id"] for h in listed["items"]] == [created["id"]]
        assert listed["next_cursor"] is None
        assert "secret" not in listed["items"][0]
        assert secret not in (await client.get(HOOKS, headers=auth)).text

        r = await client.post(
            "/v1/workspaces/default/datasets", json={"name": "cats"}, headers=auth
        )
        assert r.status_code == 201, r.text
        await WebhookDispatcher(ctx, interval=0.05).deliver_pending()
        assert [r.headers["X-Ahoy-Event"] for r in rx.ok()] == ["dataset.created"]

        deliveries = f"{HOOKS}/{created['id']}/deliveries"
        r = await client.get(deliveries, headers=auth)
        assert r.status_code == 200, r.text
        [delivery] = r.json()["items"]
        assert delivery["type"] == "dataset.created"
        assert delivery["attempt"] == 1
        assert delivery["status_code"] == 200
        assert delivery["outcome"] == "delivered"
        assert delivery["error"] is None

        r = await client.delete(f"{HOOKS}/{created['id']}", headers=auth)
        assert r.status_code == 204
        assert (await client.get(HOOKS, headers=auth)).json()["items"] == []
        assert (await client.delete(f"{HOOKS}/{created['id']}", headers=auth)).status_code == 404
        assert (await client.get(deliveries, headers=auth)).status_code == 404

        audit = (await client.get("/v1/workspaces/default/audit", headers=auth)).text
        assert "webhook.create" in audit and "webhook.delete" in audit
        assert secret not in audit

    api(settings, scenario, lan)
    # The secret is kept where the dispatcher needs it, and nowhere else.
    with sqlite3.connect(settings.catalog_path) as db:
        assert db.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM webhooks").fetchone() == (1,)


def test_an_idempotency_key_never_stores_the_secret(settings: Settings, lan: Lan):
    async def scenario(
        client: AsyncTestClient[Any], auth: dict[str, str], ctx: ServiceContext, rx: Receiver
    ) -> None:
        headers = {**auth, "Idempotency-Key": "k1"}
        r = await client.post(HOOKS, json={"url": rx.url + "/hook"}, headers=headers)
        assert r.status_code == 201
        assert r.json()["events"] == ["*"]
        assert "Idempotency-Replayed" not in r.headers

    api(settings, scenario, lan)
    with sqlite3.connect(settings.catalog_path) as db:
        assert db.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone() == (0,)


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"url": "http://x.lan/h", "events": ["version.commit"]}, 422, "version.created"),
        ({"url": "http://x.lan/h", "events": ["jobs.*"]}, 422, "job.*"),
        ({"url": "http://x.lan/h", "events": []}, 422, "at least one event"),
        ({"url": "ftp://x.lan/h"}, 400, ""),
        ({"url": "http://x.lan/h", "secret": "mine"}, 400, ""),
    ],
)
def test_bad_registrations_are_refused(local_settings: Settings, body, status, needle):
    async def scenario(
        client: AsyncTestClient[Any], auth: dict[str, str], ctx: ServiceContext, rx: Receiver
    ) -> None:
        r = await client.post(HOOKS, json=body, headers=auth)
        assert r.status_code == status, r.text
        assert needle in r.text
        assert (await client.get(HOOKS, headers=auth)).json()["items"] == []

    api(local_settings, scenario)


def test_a_viewer_may_not_manage_webhooks(settings: Settings, lan: Lan):
    async def scenario(
        client: AsyncTestClient[Any], auth: dict[str, str], ctx: ServiceContext, rx: Receiver
    ) -> None:
        r = await client.post(HOOKS, json={"url": rx.url + "/hook"}, headers=auth)
        hook_id = r.json()["id"]
        user = {"username": "vera", "password": PASSWORD}
        assert (await client.post("/v1/users", json=user, headers=auth)).status_code == 201
        r = await client.put(
            "/v1/workspaces/default/members/vera", json={"role": "viewer"}, headers=auth
        )
        assert r.status_code == 200, r.text
        token = (await client.post("/v1/sessions", json=user)).json()["token"]
        viewer = {"Authorization": f"Bearer {token}"}

        calls = [
            client.get(HOOKS, headers=viewer),
            client.post(HOOKS, json={"url": rx.url + "/hook"}, headers=viewer),
            client.delete(f"{HOOKS}/{hook_id}", headers=viewer),
            client.get(f"{HOOKS}/{hook_id}/deliveries", headers=viewer),
        ]
        for call in calls:
            r = await call
            assert r.status_code == 403, r.text
            assert r.json()["type"] == "urn:ahoy:problem:forbidden"
        assert len((await client.get(HOOKS, headers=auth)).json()["items"]) == 1

    api(settings, scenario, lan)


# fmt: off
#: Hosts a workspace admin must not point a webhook at, through the real API and
#: the real resolver ("localhost" is read from the hosts file). (url, what the
#: refusal says, whether an admin could allow it)
REFUSED = [
    ("http://127.0.0.1:8888/filer?mv.from=/x",   "is a loopback address",       False),
    ("http://localhost:8888/h",                  "resolves to a loopback",      False),
    ("http://[::1]:8888/h",                      "is a loopback address",       False),
    ("http://[::ffff:127.0.0.1]:8888/h",         "is a loopback address",       False),
    ("http://[::ffff:7f00:1]:8888/h",            "is a loopback address",       False),
    ("http://0.0.0.0:8888/h",                    "is an unspecified address",    False),
    ("http://[::]:8888/h",                       "is an unspecified address",    False),
    ("http://2130706433:8888/h",                 "is a loopback address",       False),
    ("http://0x7f000001:8888/h",                 "is a loopback address",       False),
    ("http://127.1:8888/h",                      "is a loopback address",       False),
    ("http://0177.0.0.1:8888/h",                 "is a loopback address",       False),
    ("http://169.254.169.254/latest/meta-data/", "is a link-local address",     False),
    ("http://[fe80::1%25eth0]/h",                "is a link-local address",     False),
    ("http://224.0.0.1/h",                       "is a multicast address",      False),
    ("http://255.255.255.255/h",                 "is a reserved address",       False),
    ("https://10.1.2.3/h",                       "is a private (LAN) address",  True),
    ("http://192.168.1.20:8080/h",               "is a private (LAN) address",  True),
    ("http://100.64.0.1/h",                      "is a private (LAN) address",  True),
    ("http://[fd00::1]/h",                       "is a private (LAN) address",  True),
]
# fmt: on


@pytest.mark.parametrize(("url", "says", "allowable"), REFUSED)
def test_a_webhook_to_the_box_or_its_lan_is_refused_naming_the_setting(
    local_settings: Settings, url: str, says: str, allowable: bool
):
    async def scenario(
        client: AsyncTestClient[Any], auth: dict[str, str], ctx: ServiceContext, rx: Receiver
    ) -> None:
        r = await client.post(HOOKS, json={"url": url, "events": ["*"]}, headers=auth)
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["type"] == "urn:ahoy:problem:invalid-input"
        assert says in problem["detail"]
        assert "AHOY_WEBHOOK_ALLOW_PRIVATE" in problem["hint"]
        assert ("may allow" in problem["hint"]) is allowable
        assert (await client.get(HOOKS, headers=auth)).json()["items"] == []

    api(local_settings, scenario)


def test_an_allow_list_admits_its_lan_and_never_loopback(local_settings: Settings):
    async def scenario(
        client: AsyncTestClient[Any], auth: dict[str, str], ctx: ServiceContext, rx: Receiver
    ) -> None:
        r = await client.post(HOOKS, json={"url": "https://10.1.2.3/h"}, headers=auth)
        assert r.status_code == 201, r.text
        for url in ("http://10.2.0.1/h", "http://127.0.0.1/h", "http://169.254.169.254/"):
            r = await client.post(HOOKS, json={"url": url}, headers=auth)
            assert r.status_code == 422, r.text
        assert len((await client.get(HOOKS, headers=auth)).json()["items"]) == 1

    api(local_settings.with_(webhook_allow_private="10.1.0.0/16"), scenario)


def test_a_name_that_does_not_resolve_is_refused(local_settings: Settings):
    async def scenario(
        client: AsyncTestClient[Any], auth: dict[str, str], ctx: ServiceContext, rx: Receiver
    ) -> None:
        body = {"url": "http://no-such-host.invalid/h"}
        r = await client.post(HOOKS, json=body, headers=auth)
        assert r.status_code == 422, r.text
        assert "does not resolve" in r.json()["detail"]

    api(local_settings, scenario)
