"""The webhook dispatcher against a real catalog and a real HTTP receiver.

Receivers listen on a LAN host (a veth pair into a network namespace, see
``tests.integration.lan``) that the settings allow-list: webhooks never reach
loopback, so this is how a receiver on the appliance's LAN is reached.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from appliance.bootstrap import open_services
from appliance.domain.webhooks import verify_signature
from appliance.services import datasets, versions, webhooks
from appliance.services.context import ServiceContext
from appliance.services.webhooks import WebhookDispatcher
from appliance.settings import Settings
from tests.conftest import make_tree, read_tree, stage_files
from tests.integration.lan import Lan
from tests.integration.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.integration

WS = "default"
ACTOR = "user:ann"


def fast(ctx: ServiceContext) -> WebhookDispatcher:
    """A dispatcher whose retries wait milliseconds instead of seconds."""
    return WebhookDispatcher(ctx, interval=0.05, backoff=lambda attempt: 0.01 * attempt)


def run(
    settings: Settings, lan: Lan, fn: Callable[[ServiceContext, Receiver], Awaitable[Any]]
) -> Any:
    async def main() -> Any:
        async with open_services(settings) as ctx:
            return await fn(ctx, rx)

    with receiver(lan) as rx:
        return asyncio.run(main())


def payloads(rx: Receiver, path: str | None = None) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in (rx.ok(path) if path else rx.ok())]


def test_a_commit_is_delivered_signed(settings: Settings, lan: Lan, tmp_path: Path):
    make_tree(tmp_path / "src", 3)

    async def scenario(ctx: ServiceContext, rx: Receiver) -> None:
        hook = await webhooks.create(ctx, WS, ACTOR, rx.url + "/hook", ["*"])
        await datasets.create(ctx, WS, "cats", ACTOR)
        await stage_files(ctx, WS, "cats", read_tree(tmp_path / "src"), ACTOR)
        version = await versions.commit(ctx, WS, "cats", "first", ACTOR)
        await fast(ctx).deliver_pending()

        types = [p["type"] for p in payloads(rx)]
        assert types == ["dataset.created", "dataset.staged", "version.created"]
        sent = rx.ok()[-1]
        event = json.loads(sent.body)
        assert event["workspace"] == WS
        assert event["data"]["actor"] == ACTOR
        assert event["data"]["target"] == f"cats@{version.number}"
        assert event["data"]["detail"]["manifest_hash"] == version.manifest_hash
        assert set(event) == {"id", "type", "workspace", "at", "data"}
        assert sent.headers["Content-Type"] == "application/json"
        assert sent.headers["X-Ahoy-Event"] == "version.created"
        assert sent.headers["X-Ahoy-Delivery"] == f"{hook['id']}-{event['id']}"
        signature = sent.headers["X-Ahoy-Signature"]
        assert verify_signature(hook["secret"], signature, sent.body, now=time.time())
        assert not verify_signature("not-the-secret", signature, sent.body, now=time.time())
        assert not verify_signature(hook["secret"], signature, sent.body + b" ", time.time())

        log = await webhooks.deliveries(ctx, WS, hook["id"])
        assert [(d["type"], d["attempt"], d["status_code"], d["error"]) for d in log] == [
            ("version.created", 1, 200, None),
            ("dataset.staged", 1, 200, None),
            ("dataset.created", 1, 200, None),
        ]
        assert {d["outcome"] for d in log} == {"delivered"}
        # Nothing new: another pass sends nothing again.
        await fast(ctx).deliver_pending()
        assert len(rx.requests) == 3

    run(settings, lan, scenario)


def test_failures_are_retried_and_each_attempt_logged(settings: Settings, lan: Lan):
    async def scenario(ctx: ServiceContext, rx: Receiver) -> None:
        rx.fail_first = 2
        hook = await webhooks.create(ctx, WS, ACTOR, rx.url + "/hook", ["dataset.created"])
        await datasets.create(ctx, WS, "cats", ACTOR)
        await fast(ctx).deliver_pending()

        assert [r.status for r in rx.requests] == [500, 500, 200]
        assert len({r.body for r in rx.requests}) == 1  # the same event each time
        assert len({r.headers["X-Ahoy-Delivery"] for r in rx.requests}) == 1
        log = await webhooks.deliveries(ctx, WS, hook["id"])
        assert [(d["attempt"], d["status_code"]) for d in reversed(log)] == [
            (1, 500),
            (2, 500),
            (3, 200),
        ]
        assert log[-1]["error"] == "the receiver answered HTTP 500"
        assert [d["outcome"] for d in reversed(log)] == ["http_status", "http_status", "delivered"]
        assert all(d["duration_ms"] >= 0 for d in log)
        await fast(ctx).deliver_pending()
        assert len(rx.ok()) == 1  # delivered once

    run(settings, lan, scenario)


def test_a_dead_receiver_is_given_up_on_and_does_not_block_later_events(
    settings: Settings, lan: Lan
):
    def unused_port() -> int:
        with socket.socket() as s:
            s.bind((lan.address, 0))
            return int(s.getsockname()[1])

    dead = f"http://{lan.address}:{lan.inside(unused_port)}/hook"

    async def scenario(ctx: ServiceContext, rx: Receiver) -> None:
        hook = await webhooks.create(ctx, WS, ACTOR, dead, ["dataset.*"])
        await datasets.create(ctx, WS, "one", ACTOR)
        await datasets.create(ctx, WS, "two", ACTOR)
        await fast(ctx).deliver_pending()

        log = await webhooks.deliveries(ctx, WS, hook["id"])
        assert [(d["type"], d["attempt"]) for d in reversed(log)] == [
            ("dataset.created", 1),
            ("dataset.created", 2),
            ("dataset.created", 1),
            ("dataset.created", 2),
        ]
        assert all(d["outcome"] == "connection_failed" for d in log)
        assert all(d["status_code"] is None for d in log)
        assert {d["error"] for d in log} == {"could not connect to the receiver"}
        await fast(ctx).deliver_pending()  # the cursor moved on: nothing is tried again
        assert len(await webhooks.deliveries(ctx, WS, hook["id"])) == 4

    run(settings.with_(webhook_max_attempts=2), lan, scenario)


def test_events_before_the_hook_existed_are_not_sent(settings: Settings, lan: Lan):
    async def scenario(ctx: ServiceContext, rx: Receiver) -> None:
        await datasets.create(ctx, WS, "early", ACTOR)
        await webhooks.create(ctx, WS, ACTOR, rx.url + "/hook", ["*"])
        await datasets.create(ctx, WS, "late", ACTOR)
        await fast(ctx).deliver_pending()
        assert [p["data"]["target"] for p in payloads(rx)] == ["late"]

    run(settings, lan, scenario)


def test_a_hook_hears_only_its_own_workspace(settings: Settings, lan: Lan):
    async def scenario(ctx: ServiceContext, rx: Receiver) -> None:
        await webhooks.create(ctx, "alpha", ACTOR, rx.url + "/alpha", ["*"])
        await webhooks.create(ctx, "beta", ACTOR, rx.url + "/beta", ["*"])
        await datasets.create(ctx, "alpha", "a1", ACTOR)
        await datasets.create(ctx, "beta", "b1", ACTOR)
        await datasets.create(ctx, "beta", "b2", ACTOR)
        await datasets.create(ctx, "gamma", "g1", ACTOR)  # a workspace with no hooks
        await fast(ctx).deliver_pending()
        alpha, beta = payloads(rx, "/alpha"), payloads(rx, "/beta")
        assert [(p["workspace"], p["data"]["target"]) for p in alpha] == [("alpha", "a1")]
        assert [(p["workspace"], p["data"]["target"]) for p in beta] == [
            ("beta", "b1"),
            ("beta", "b2"),
        ]

    run(settings, lan, scenario)


def test_a_deleted_hook_gets_nothing(settings: Settings, lan: Lan):
    async def scenario(ctx: ServiceContext, rx: Receiver) -> None:
        hook = await webhooks.create(ctx, WS, ACTOR, rx.url + "/gone", ["*"])
        await webhooks.create(ctx, WS, ACTOR, rx.url + "/kept", ["*"])
        await webhooks.delete(ctx, WS, hook["id"], ACTOR)
        await datasets.create(ctx, WS, "cats", ACTOR)
        await fast(ctx).deliver_pending()
        assert rx.on("/gone") == []
        assert len(rx.on("/kept")) == 1

    run(settings, lan, scenario)


def test_deleting_a_hook_stops_its_retries(settings: Settings, lan: Lan):
    async def scenario(ctx: ServiceContext, rx: Receiver) -> None:
        rx.always_fail.add("/hook")
        hook = await webhooks.create(ctx, WS, ACTOR, rx.url + "/hook", ["*"])
        await datasets.create(ctx, WS, "cats", ACTOR)
        dispatcher = WebhookDispatcher(ctx, interval=0.05, backoff=lambda attempt: 0.2)
        stop = asyncio.Event()
        loop = asyncio.create_task(dispatcher.run(stop))
        await rx.wait_for(1, "/hook")
        await webhooks.delete(ctx, WS, hook["id"], ACTOR)
        await asyncio.sleep(1.0)  # the four retries left would have happened by now
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
        assert 1 <= len(rx.on("/hook")) <= 2  # at most the attempt already under way

    run(settings, lan, scenario)


def test_a_slow_hook_does_not_hold_up_the_others(settings: Settings, lan: Lan):
    async def scenario(ctx: ServiceContext, rx: Receiver) -> None:
        rx.slow["/slow"] = 1.5
        await webhooks.create(ctx, WS, ACTOR, rx.url + "/slow", ["*"])
        await webhooks.create(ctx, WS, ACTOR, rx.url + "/fast", ["*"])
        dispatcher = WebhookDispatcher(ctx, interval=5.0)  # only a poke wakes it
        stop = asyncio.Event()
        loop = asyncio.create_task(dispatcher.run(stop))
        await asyncio.sleep(0.1)
        for name in ("one", "two", "three"):
            await datasets.create(ctx, WS, name, ACTOR)
        started = time.monotonic()
        dispatcher.poke()
        await rx.wait_for(3, "/fast", timeout=5)
        assert time.monotonic() - started < 1.4  # the slow receiver is still on its first
        assert rx.on("/slow") == []
        stop.set()
        await asyncio.wait_for(loop, timeout=5)

    run(settings, lan, scenario)


def test_deleting_a_hook_stops_the_events_still_queued_for_it(settings: Settings, lan: Lan):
    async def scenario(ctx: ServiceContext, rx: Receiver) -> None:
        rx.slow["/hook"] = 0.2
        hook = await webhooks.create(ctx, WS, ACTOR, rx.url + "/hook", ["*"])
        for i in range(5):
            await datasets.create(ctx, WS, f"ds{i}", ACTOR)
        stop = asyncio.Event()
        loop = asyncio.create_task(fast(ctx).run(stop))
        await rx.wait_for(1, "/hook")
        await webhooks.delete(ctx, WS, hook["id"], ACTOR)
        await asyncio.sleep(0.8)
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
        assert 1 <= len(rx.on("/hook")) <= 2

    run(settings, lan, scenario)
