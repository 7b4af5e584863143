"""The webhook endpoints, in process: real app, real catalog, real receiver."""

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
from tests.integration.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
HOOKS = "/v1/workspaces/default/webhooks"

Scenario = Callable[
    [AsyncTestClient[Any], dict[str, str], ServiceContext, Receiver], Awaitable[None]
]


def api(settings: Settings, scenario: Scenario) -> None:
    async def main() -> None:
        async with open_services(settings) as ctx:
            await accounts.init_admin(ctx, "admin", PASSWORD)
            app = create_app(ctx, lambda: {"status": "ok"})
            async with AsyncTestClient(app) as client:
                login = {"username": "admin", "password": PASSWORD}
                token = (await client.post("/v1/sessions", json=login)).json()["token"]
                await scenario(client, {"Authorization": f"Bearer {token}"}, ctx, rx)

    with receiver() as rx:
        asyncio.run(main())


def test_create_list_deliveries_delete(local_settings: Settings):
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

        r = await client.delete(f"{HOOKS}/{created['id']}", headers=auth)
        assert r.status_code == 204
        assert (await client.get(HOOKS, headers=auth)).json()["items"] == []
        assert (await client.delete(f"{HOOKS}/{created['id']}", headers=auth)).status_code == 404
        assert (await client.get(deliveries, headers=auth)).status_code == 404

        audit = (await client.get("/v1/workspaces/default/audit", headers=auth)).text
        assert "webhook.create" in audit and "webhook.delete" in audit
        assert secret not in audit

    api(local_settings, scenario)
    # The secret is kept where the dispatcher needs it, and nowhere else.
    with sqlite3.connect(local_settings.catalog_path) as db:
        assert db.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM webhooks").fetchone() == (1,)


def test_an_idempotency_key_never_stores_the_secret(local_settings: Settings):
    async def scenario(
        client: AsyncTestClient[Any], auth: dict[str, str], ctx: ServiceContext, rx: Receiver
    ) -> None:
        headers = {**auth, "Idempotency-Key": "k1"}
        r = await client.post(HOOKS, json={"url": rx.url + "/hook"}, headers=headers)
        assert r.status_code == 201
        assert r.json()["events"] == ["*"]
        assert "Idempotency-Replayed" not in r.headers

    api(local_settings, scenario)
    with sqlite3.connect(local_settings.catalog_path) as db:
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


def test_a_viewer_may_not_manage_webhooks(local_settings: Settings):
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

    api(local_settings, scenario)
