"""The annotation event stream on a real SQLite catalog and local blobs: applied
idempotently, resumed from its offset, refused whole, and crash-safe."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

from appliance.adapters.catalog.repo_streams import SqliteStreams
from appliance.domain.labels.review import IN_PROGRESS
from appliance.errors import EventsRejected, InvalidInput, NotFound
from appliance.ports.blobstore import BlobPut
from appliance.services import datasets, label_events, labels, staging, versions

pytestmark = pytest.mark.integration

N = 6


def box(cls: int, cx: float = 0.5) -> dict[str, object]:
    return {"type": "box", "class": cls, "box": [cx, 0.5, 0.2, 0.2]}


def set_ev(i: int, cls: int = 1, **kw: object) -> dict[str, object]:
    doc = {"objects": [box(cls)]}
    return {"id": f"e{i}", "file": f"img/{i}.jpg", "op": "set", "labels": doc} | kw


@pytest.fixture
def ds(engine):
    """A dataset of N images without labels, committed as v1."""
    images = [os.urandom(500 + i) for i in range(N)]

    async def put(ctx):
        ctx.blobs.put_many(
            engine.ws, [BlobPut(hashlib.sha256(b).hexdigest(), len(b), data=b) for b in images]
        )

    engine.with_ctx(put)
    engine(datasets.create, "ds", "me")
    entries = [
        staging.Entry(f"img/{i}.jpg", hashlib.sha256(b).hexdigest(), len(b))
        for i, b in enumerate(images)
    ]
    engine(staging.stage_uploaded, "ds", entries, "me")
    engine(versions.commit, "ds", "v1", "me")
    return engine


def ingest(engine, events, stream="studio"):
    return engine(label_events.ingest, "ds", stream, events, "user:ann")


def rows(engine, sql, *args):
    conn = sqlite3.connect(engine.settings.catalog_path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def labelled(engine) -> dict[str, str | None]:
    return {n: w.label_sha256 for n, w in engine(_working).items()}


async def _working(ctx, ws):
    async with ctx.catalog.reading(ws) as uow:
        return await uow.files.working((await uow.datasets.get("ds")).id)


def test_a_batch_applies_and_a_resend_changes_nothing_and_says_so(ds):
    batch = [set_ev(i) for i in range(4)]
    first = ingest(ds, batch)
    assert first.as_dict() == {
        "stream": "studio", "accepted": 4, "duplicates": 0, "offset": 3, "changed": 4,
    }  # fmt: skip
    after = labelled(ds)
    blobs, audit = ds.blob_count(), rows(ds, "SELECT COUNT(*) FROM audit_log")
    again = ingest(ds, batch)
    assert (again.accepted, again.duplicates, again.offset, again.changed) == (0, 4, 3, 0)
    assert labelled(ds) == after and ds.blob_count() == blobs
    assert rows(ds, "SELECT COUNT(*) FROM audit_log") == audit
    state = ds(label_events.stream_state, "ds", "studio")
    assert {k: state[k] for k in ("stream", "offset", "events", "last_event_id")} == {
        "stream": "studio", "offset": 3, "events": 4, "last_event_id": "e3",
    }  # fmt: skip
    reviews = rows(ds, "SELECT filename, state, annotator FROM label_reviews ORDER BY 1")
    assert reviews == [(f"img/{i}.jpg", IN_PROGRESS, "user:ann") for i in range(4)]
    (audit_row,) = rows(ds, "SELECT detail_json FROM audit_log WHERE action = 'labels.ingest'")
    assert '"accepted": 4' in audit_row[0] and '"stream": "studio"' in audit_row[0]


def test_resume_from_the_offset_and_a_partly_new_batch(ds):
    ingest(ds, [set_ev(i, offset=10 + i) for i in range(3)])
    assert ds(label_events.stream_state, "ds", "studio")["offset"] == 12
    r = ingest(ds, [set_ev(i, offset=10 + i) for i in range(5)])  # the first 3 again, then 2
    assert (r.accepted, r.duplicates, r.offset) == (2, 3, 14)
    # another stream keeps its own offset and ids
    other = ingest(ds, [set_ev(0, cls=4)], stream="night")
    assert (other.accepted, other.offset) == (1, 0)
    assert ds(label_events.stream_state, "ds", "fresh")["offset"] is None


def test_a_new_id_below_the_offset_is_refused(ds):
    ingest(ds, [set_ev(0, offset=5)])
    with pytest.raises(EventsRejected) as info:
        ingest(ds, [{**set_ev(1), "id": "rewound", "offset": 3}])
    assert info.value.problems == [
        ("events[0]", "event 'rewound': offset 3 is not past the stream's offset 5; "
         "its id is new, so the producer rewound with other ids"),
    ]  # fmt: skip


def test_one_bad_event_refuses_the_batch_and_the_report_names_each(ds):
    before, blobs = labelled(ds), ds.blob_count()
    batch = [
        set_ev(0),
        set_ev(1, file="img/missing.jpg"),
        set_ev(2, labels={"objects": [box(1, cx=7)]}),
        set_ev(3),
        set_ev(0, file="img/4.jpg"),
    ]
    with pytest.raises(EventsRejected) as info:
        ingest(ds, batch)
    assert [where for where, _ in info.value.problems] == ["events[1]", "events[2]", "events[4]"]
    assert "'img/missing.jpg' is not in the working area" in info.value.problems[0][1]
    assert "0..1" in info.value.problems[1][1]
    assert "its id is also event 0's" in info.value.problems[2][1]
    assert "3 problem(s)" in info.value.message
    assert labelled(ds) == before and ds.blob_count() == blobs
    assert rows(ds, "SELECT COUNT(*) FROM annotation_events") == [(0,)]
    assert rows(ds, "SELECT COUNT(*) FROM label_reviews") == [(0,)]


def test_add_appends_to_the_current_labels_and_clear_unlabels(ds):
    ingest(ds, [set_ev(0, cls=1), set_ev(1)])
    r = ingest(
        ds,
        [
            {"id": "a1", "file": "img/0.jpg", "op": "add", "objects": [box(2)]},
            {"id": "a2", "file": "img/0.jpg", "op": "add", "objects": [box(3)]},
            {"id": "a3", "file": "img/2.jpg", "op": "add", "objects": [box(5)]},
            {"id": "c1", "file": "img/1.jpg", "op": "clear"},
        ],
    )
    assert (r.accepted, r.changed) == (4, 3)
    now = labelled(ds)
    docs = ds(_docs, {now["img/0.jpg"], now["img/2.jpg"]})
    assert [o.cls for o in docs[now["img/0.jpg"]].objects] == [1, 2, 3]
    assert [o.cls for o in docs[now["img/2.jpg"]].objects] == [5]
    assert now["img/1.jpg"] is None
    d = ds(versions.diff, "ds", "1", "working")
    assert sorted(c.filename for c in d.modified) == ["img/0.jpg", "img/2.jpg"]
    events = rows(ds, "SELECT event_id, position, action FROM annotation_events ORDER BY 2")
    assert events == [
        ("e0", 0, "set"), ("e1", 1, "set"),
        ("a1", 2, "add"), ("a2", 3, "add"), ("a3", 4, "add"), ("c1", 5, "clear"),
    ]  # fmt: skip


async def _docs(ctx, ws, digests):
    return labels.read_labels(ctx, ws, digests)


def test_positional_keys_apply_like_named_ones(ds):
    r = ingest(ds, [{0: "p1", 1: "img/5.jpg", 2: "set", 3: {"objects": [box(1)]}, 5: 99}])
    assert (r.accepted, r.offset) == (1, 99)
    assert labelled(ds)["img/5.jpg"] is not None


def test_bad_stream_and_dataset(ds):
    with pytest.raises(InvalidInput, match="stream name"):
        ingest(ds, [set_ev(0)], stream="Bad Name")
    with pytest.raises(NotFound):
        ds(label_events.ingest, "nope", "studio", [set_ev(0)], "me")


def test_a_failure_inside_the_transaction_keeps_no_new_blob_and_applies_nothing(ds, monkeypatch):
    before, blobs = labelled(ds), ds.blob_count()

    async def boom(self, *args, **kwargs):
        raise RuntimeError("the disk went away mid-transaction")

    monkeypatch.setattr(SqliteStreams, "add_events", boom)
    with pytest.raises(RuntimeError, match="went away"):
        ingest(ds, [set_ev(i, cls=i) for i in range(N)])
    assert ds.blob_count() == blobs, "the documents stored first were taken back"
    assert labelled(ds) == before
    for table in ("annotation_events", "label_reviews", "label_activity"):
        assert rows(ds, f"SELECT COUNT(*) FROM {table}") == [(0,)], table
    monkeypatch.undo()
    assert ingest(ds, [set_ev(i, cls=i) for i in range(N)]).accepted == N  # and it retries fine


def test_a_resend_after_a_file_was_removed_is_still_all_duplicates(ds):
    batch = [set_ev(0), set_ev(1)]
    ingest(ds, batch)
    ds(datasets.remove_files, "ds", ["img/1.jpg"], "me")
    again = ingest(ds, batch)
    assert (again.accepted, again.duplicates) == (0, 2)
    with pytest.raises(EventsRejected) as info:
        ingest(ds, [{**set_ev(1), "id": "new"}])
    assert "'img/1.jpg' is not in the working area" in info.value.message
