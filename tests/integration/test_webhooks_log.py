"""The webhook delivery log says how each attempt ended and nothing more: it is
read by workspace admins, and exception texts naming hosts and ports would make
it a port scanner."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from typing import Any

import pytest

from appliance.adapters.catalog.migrations import MIGRATIONS
from appliance.bootstrap import open_services
from appliance.services import datasets, webhooks
from appliance.services.context import ServiceContext
from appliance.services.webhooks import WebhookDispatcher
from appliance.settings import Settings
from tests.integration.lan import Lan
from tests.integration.webhook_receiver import receiver

pytestmark = pytest.mark.integration

WS = "default"
ACTOR = "user:ann"
TEXTS = {
    None,
    "the webhook address policy refused the receiver's address",
    "could not connect to the receiver",
    "the receiver did not answer in time",
}


def test_each_attempt_is_logged_as_an_outcome_class_only(local_settings: Settings, lan: Lan):
    settings = local_settings.with_(
        webhook_allow_private=lan.address, webhook_max_attempts=1, webhook_timeout=0.5
    )

    def unused_port() -> int:
        with socket.socket() as s:
            s.bind((lan.address, 0))
            return int(s.getsockname()[1])

    closed = lan.inside(unused_port)
    with receiver(lan) as rx:
        rx.slow["/slow"] = 2.0
        rx.always_fail.add("/fails")
        port = rx.url.rsplit(":", 1)[1]
        urls = {
            "delivered": rx.url + "/ok",
            "http_status": rx.url + "/fails",
            "timed_out": rx.url + "/slow",
            "connection_failed": f"http://{lan.address}:{closed}/hook",
            # registered while the name led to the LAN host; now it leads elsewhere
            "refused": f"http://moved.test:{port}/hook",
        }

        def resolve(host: str, port: int) -> list[str]:
            return ["10.200.0.1"]  # private, and not on the allow-list

        async def scenario(ctx: ServiceContext) -> dict[str, list[dict[str, Any]]]:
            hooks = {}
            for outcome, url in urls.items():
                hook = await webhooks.create(
                    ctx, WS, ACTOR, url, ["*"], resolve=lambda h, p: [lan.address]
                )
                hooks[outcome] = hook["id"]
            await datasets.create(ctx, WS, "cats", ACTOR)
            dispatcher = WebhookDispatcher(ctx, interval=0.05, resolve=resolve)
            await dispatcher.deliver_pending()
            return {o: await webhooks.deliveries(ctx, WS, h) for o, h in hooks.items()}

        logs = asyncio.run(_with_services(settings, scenario))

    for expected, log in logs.items():
        [row] = log
        assert row["outcome"] == expected
        assert row["error"] in TEXTS or row["error"] == "the receiver answered HTTP 500"
        assert set(row) == {
            "id", "event_id", "type", "attempt", "outcome", "status_code", "error",
            "duration_ms", "at",
        }  # fmt: skip
    assert logs["http_status"][0]["status_code"] == 500
    assert logs["delivered"][0]["status_code"] == 200
    shown = repr(logs)
    for secret in (lan.address, str(closed), "10.200.0.1", "moved.test", "Errno", "Pool"):
        assert secret not in shown
    with sqlite3.connect(settings.catalog_path) as db:
        rows = db.execute("SELECT outcome, error FROM webhook_deliveries").fetchall()
    assert {o for o, _ in rows} == set(urls) and all(e is None for _, e in rows)


async def _with_services(settings: Settings, scenario: Any) -> Any:
    async with open_services(settings) as ctx:
        return await scenario(ctx)


def test_the_migration_leaves_old_rows_their_outcome_and_drops_their_texts(
    local_settings: Settings,
):
    """Rows written before outcome classes held exception texts with hosts and
    ports; schema 9 classifies them and drops the texts."""
    local_settings.data_dir.mkdir(parents=True)
    db = sqlite3.connect(local_settings.catalog_path)
    db.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at REAL NOT NULL)"
    )
    for version, name, sql in MIGRATIONS:
        if version >= 9:
            break
        db.executescript(sql)
        db.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
    old = [
        (200, None, "delivered"),
        (500, "the receiver answered HTTP 500", "http_status"),
        (
            None,
            "ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=8888): Max retries"
            " exceeded (Caused by NewConnectionError('[Errno 111] Connection refused'))",
            "connection_failed",
        ),
        (None, "ConnectTimeout: HTTPConnectionPool(host='10.0.0.9', port=22)", "timed_out"),
        (None, "ReadTimeout: HTTPConnectionPool(host='10.0.0.9', port=80)", "timed_out"),
    ]
    for status, error, _ in old:
        db.execute(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, attempt,"
            " status_code, error, duration_ms, at) VALUES ('h', 1, 'dataset.created', 1, ?, ?,"
            " 1.0, 0)",
            (status, error),
        )
    db.commit()
    db.close()

    async def scenario(ctx: ServiceContext) -> None:
        pass

    asyncio.run(_with_services(local_settings, scenario))
    with sqlite3.connect(local_settings.catalog_path) as db:
        rows = db.execute("SELECT outcome, error FROM webhook_deliveries ORDER BY id").fetchall()
    assert rows == [(outcome, None) for _, _, outcome in old]
