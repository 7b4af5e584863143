"""The event stream over HTTP, in process: the same batch as JSON and as msgpack
(named and positional keys), resent as duplicates, and the refusals' shapes."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from appliance.bootstrap import open_services
from appliance.ports.blobstore import BlobPut
from appliance.services import accounts, datasets, staging
from appliance.settings import Settings
from appliance.web.app import create_app

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
EV = "/v1/workspaces/default/datasets/ds/annotation-events"
MSGPACK = {"Content-Type": "application/msgpack"}
DOC = {"objects": [{"type": "box", "class": 1, "box": [0.5, 0.5, 0.2, 0.2]}]}


def _run(settings: Settings, calls) -> Any:
    async def main() -> Any:
        async with open_services(settings) as ctx:
            await accounts.init_admin(ctx, "admin", PASSWORD)
            await datasets.create(ctx, "default", "ds", "me")
            images = {f"img/{i}.jpg": bytes([i]) * 300 for i in range(4)}
            ctx.blobs.put_many(
                "default",
                [BlobPut(hashlib.sha256(b).hexdigest(), len(b), data=b) for b in images.values()],
            )
            entries = [
                staging.Entry(n, hashlib.sha256(b).hexdigest(), len(b)) for n, b in images.items()
            ]
            await staging.stage_uploaded(ctx, "default", "ds", entries, "me")
            app = create_app(ctx, lambda: {"status": "ok"})
            async with AsyncTestClient(app) as client:
                login = {"username": "admin", "password": PASSWORD}
                token = (await client.post("/v1/sessions", json=login)).json()["token"]
                client.headers["Authorization"] = f"Bearer {token}"
                return await calls(client)

    return asyncio.run(main())


def test_json_and_msgpack_named_and_positional(local_settings: Settings):
    named = [{"id": "j1", "file": "img/0.jpg", "op": "set", "labels": DOC, "offset": 0}]
    packed = [
        {0: "m1", 1: "img/1.jpg", 2: "set", 3: DOC, 5: 1},
        {"id": "m2", "file": "img/2.jpg", "op": "add", "objects": DOC["objects"], "offset": 2},
    ]

    async def calls(client):
        out = []
        for body, headers in (
            (msgspec.json.encode({"events": named}), {"Content-Type": "application/json"}),
            (msgspec.msgpack.encode(packed), {"Content-Type": "application/x-msgpack"}),
            (msgspec.msgpack.encode({"events": packed}), MSGPACK),  # resent: duplicates
        ):
            r = await client.post(EV, params={"stream": "rmq"}, content=body, headers=headers)
            out.append((r.status_code, r.json()))
        r = await client.get(EV + "/rmq")
        out.append((r.status_code, r.json()))
        return out

    (s1, a), (s2, b), (s3, c), (s4, state) = _run(local_settings, calls)
    assert (s1, s2, s3, s4) == (200, 200, 200, 200)
    assert a == {"stream": "rmq", "accepted": 1, "duplicates": 0, "offset": 0, "changed": 1}
    assert (b["accepted"], b["offset"]) == (2, 2)
    assert (c["accepted"], c["duplicates"], c["offset"]) == (0, 2, 2)
    assert (state["offset"], state["events"], state["last_event_id"]) == (2, 3, "m2")


def test_refusals(local_settings: Settings):
    bad = [
        {"id": "x1", "file": "img/0.jpg", "op": "set", "labels": DOC},
        {"id": "x2", "file": "img/9.jpg", "op": "clear"},
        {"id": "x3", "file": "img/1.jpg", "op": "nope"},
    ]

    async def calls(client):
        post = client.post
        return [
            await post(EV, params={"stream": "s"}, json={"events": bad}),
            await post(
                EV, params={"stream": "s"}, content=b"[]", headers={"Content-Type": "text/csv"}
            ),
            await post(EV, params={"stream": "s"}, content=b"\xc1", headers=MSGPACK),
            await post(EV, params={"stream": "s"}, json=[bad[0]]),  # JSON needs the map
            await post(EV, params={"stream": "s"}, json={"events": [], "x": 1}),
            await post(EV, params={"stream": "Bad!"}, json={"events": bad[:1]}),
            await client.get(EV + "/s"),
        ]

    report, media, garbage, bare, extra, name, state = _run(local_settings, calls)
    body = report.json()
    assert report.status_code == 400 and body["type"] == "urn:ahoy:problem:events-rejected"
    assert [p["path"] for p in body["problems"]] == ["events[1]", "events[2]"]
    assert "'img/9.jpg' is not in the working area" in body["problems"][0]["problem"]
    assert media.status_code == 415 and "application/msgpack" in media.json()["hint"]
    assert [r.status_code for r in (garbage, bare, extra)] == [400, 400, 400]
    assert "unknown field(s) beside events: x" in extra.json()["detail"]
    assert name.status_code == 422 and "stream name" in name.json()["detail"]
    assert state.json()["events"] == 0, "nothing of the refused batch was applied"
