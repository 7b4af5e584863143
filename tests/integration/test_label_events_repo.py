"""The event stream's catalog side: batch review writes land exactly as the one-row
methods write them, and two producers racing on one stream apply each event once."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from appliance.ports.blobstore import BlobPut
from appliance.services import datasets, label_events, staging

pytestmark = pytest.mark.integration

FILES = ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]


async def _dataset(ctx, ws):
    await datasets.create(ctx, ws, "ds", "me")
    data = {name: name.encode() * 10 for name in FILES}
    ctx.blobs.put_many(
        ws, [BlobPut(hashlib.sha256(b).hexdigest(), len(b), data=b) for b in data.values()]
    )
    entries = [staging.Entry(n, hashlib.sha256(b).hexdigest(), len(b)) for n, b in data.items()]
    await staging.stage_uploaded(ctx, ws, "ds", entries, "me")


async def _reviews(uow, ds_id):
    cur = await uow.conn.execute(
        "SELECT filename, state, label_sha256, annotator, reviewer, comment, updated_at"
        " FROM label_reviews WHERE dataset_id = ? ORDER BY filename",
        (ds_id,),
    )
    return {r[0]: r[1:] for r in await cur.fetchall()}


async def _activity(uow, ds_id):
    cur = await uow.conn.execute(
        "SELECT filename, actor, action, label_sha256, comment, at FROM label_activity"
        " WHERE dataset_id = ? ORDER BY id",
        (ds_id,),
    )
    return [r for r in await cur.fetchall()]


def test_batch_review_writes_match_the_one_row_methods(engine):
    async def main(ctx):
        await _dataset(ctx, engine.ws)
        async with ctx.catalog.writing(engine.ws) as uow:
            ds = await uow.datasets.get("ds")
            # a and b: the one-row way; c and d: the same steps as batches
            for name in ("a.jpg", "c.jpg"):
                await uow.reviews.set(
                    ds.id, name, "rejected", "1" * 64, annotator="ann", reviewer="rev", comment="x"
                )
            await uow.reviews.set(ds.id, "a.jpg", "in_progress", "2" * 64, annotator=None)
            await uow.reviews.set_many(ds.id, [("c.jpg", "in_progress", "2" * 64, None)])
            await uow.reviews.set(ds.id, "b.jpg", "in_progress", None, annotator="bob")
            await uow.reviews.set_many(ds.id, [("d.jpg", "in_progress", None, "bob")])
            await uow.reviews.add_activity(ds.id, "a.jpg", "ann", "ingest", "2" * 64)
            await uow.reviews.add_activities(ds.id, [("c.jpg", "ann", "ingest", "2" * 64)])
            reviews, activity = await _reviews(uow, ds.id), await _activity(uow, ds.id)
        return reviews, activity

    reviews, activity = engine.with_ctx(main)
    assert reviews["a.jpg"] == reviews["c.jpg"]
    assert reviews["a.jpg"][:3] == ("in_progress", "2" * 64, "ann")  # annotator kept
    assert reviews["b.jpg"] == reviews["d.jpg"]
    assert activity[0][1:] == activity[1][1:]


def test_two_producers_racing_apply_each_event_once(engine):
    batch = [
        {"id": f"e{i}", "file": name, "op": "set", "labels": {"objects": []}}
        for i, name in enumerate(FILES)
    ]

    async def main(ctx):
        await _dataset(ctx, engine.ws)
        return await asyncio.gather(
            *(label_events.ingest(ctx, engine.ws, "ds", "s", batch, "me") for _ in range(3))
        )

    results = engine.with_ctx(main)
    assert sorted((r.accepted, r.duplicates) for r in results) == [(0, 4), (0, 4), (4, 0)]
    state = engine(label_events.stream_state, "ds", "s")
    assert (state["events"], state["offset"]) == (4, 3)
