"""The Catalog contract: what every adapter of ``appliance/ports/catalog`` does, once.

An adapter's test module subclasses ``CatalogContract`` and provides
``open_catalog(tmp_path)`` (a new, empty, opened catalog), like huey's
``StorageTests``. Each test runs one async body on its own catalog through the
``run`` fixture. Only the ports are used: no SQL, so a PostgreSQL adapter runs
the same suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from appliance.domain.audit_chain import Checkpoint
from appliance.domain.manifest import ManifestRow
from appliance.domain.records import Dataset, StagedFile, Version
from appliance.domain.split import SplitConfig
from appliance.errors import Conflict, InvalidInput, NotFound
from appliance.ports.catalog import Catalog, UnitOfWork

WS = "ws-a"
OTHER = "ws_b"
SPLIT = SplitConfig()

Body = Callable[[Catalog], Awaitable[Any]]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def row(name: str, content: str | None = None, split: str = "train") -> ManifestRow:
    return ManifestRow(name, sha(content or name), None, "image", split)


async def dataset(uow: UnitOfWork, slug: str = "ds") -> Dataset:
    return await uow.datasets.create(slug, "", SPLIT)


async def version(uow: UnitOfWork, ds: Dataset, names: list[str]) -> Version:
    """A version of ``names`` (each file staged first, as a commit has it)."""
    await uow.files.stage(ds.id, [StagedFile(n, sha(n), len(n), "image") for n in names])
    rows = [row(n) for n in names]
    head = await uow.versions.head(ds.id)
    return await uow.versions.create(ds.id, rows, "h" * 64, SPLIT, head, "me", "", 0)


async def job(uow: UnitOfWork, job_id: str = "j1") -> None:
    await uow.jobs.add(job_id, "train", {"epochs": 1}, "me", {"gpus": 1}, None)


async def register(uow: UnitOfWork, model_id: int, **refs: Any) -> Any:
    """A new version of the model with weights ``w``; ``refs``: dataset_version_id,
    run_id, parent_version_id."""
    return await uow.models.add_version(
        model_id,
        source="run",
        weights_sha256=sha("w"),
        weights_size=1,
        format="pt",
        actor="me",
        **refs,
    )


@dataclass(frozen=True)
class Tenant:
    """One workspace's rows of each kind a repository method takes by id."""

    ds: Dataset
    v1: Version
    v2: Version
    model: int
    mv: int
    job: str
    hook: str


async def tenant(uow: UnitOfWork, name: str) -> Tenant:
    """The same rows, with the same contents, in each workspace (ids differ)."""
    ds = await dataset(uow)
    v1 = await version(uow, ds, ["a.jpg"])
    v2 = await version(uow, ds, ["a.jpg", "b.jpg"])
    run_id, hook = f"j-{name}", f"h-{name}"
    await job(uow, run_id)
    await uow.versions.set_tag(ds.id, "prod", v1.id, "me")
    await uow.versions.add_hold(v1.id, "job", "keep")
    await uow.versions.add_derivation(v2.id, v1.id, "augment", {}, sha("r"), run_id)
    await uow.labels.set_schema(ds.id, {"classes": []}, "me")
    model = await uow.models.ensure("m", "detect", "me")
    mv = await register(uow, model["id"], dataset_version_id=v1.id, run_id=run_id)
    await uow.models.set_tag(model["id"], "production", mv["id"], "me")
    await uow.evaluations.add(f"e-{name}", run_id, mv["id"], v1.id, "val", {}, {}, "me")
    await uow.webhooks.add(hook, "http://x.invalid/", ["*"], "s", "me")
    await uow.webhooks.advance(hook, 7)
    await uow.webhooks.log_delivery(hook, 1, "job.done", 1, "delivered", 200, 1.0)
    return Tenant(ds, v1, v2, model["id"], mv["id"], run_id, hook)


async def seen(cat: Catalog, ws: str, t: Tenant) -> dict[str, Any]:
    """Everything of ``t`` its workspace can read."""
    async with cat.reading(ws) as uow:
        ids = (t.v1.id, t.v2.id)
        return {
            "datasets": await uow.datasets.list(),
            "working": await uow.files.working(t.ds.id),
            "versions": await uow.versions.list(t.ds.id),
            "holds": [await uow.versions.holds(v) for v in ids],
            "manifests": [await uow.versions.manifest(v) for v in ids],
            "derivations": [await uow.versions.derivation(v) for v in ids],
            "schema": await uow.labels.schema(t.ds.id),
            "models": await uow.models.list(),
            "model versions": await uow.models.versions(t.model),
            "evaluations": await uow.evaluations.of(t.mv),
            "cursor": await uow.webhooks.cursor(t.hook),
            "deliveries": await uow.webhooks.deliveries(t.hook),
            "files": await uow.storage.all_digests(),
        }


@dataclass(frozen=True)
class Refused:
    """The call raises NotFound naming ``kind``."""

    kind: str


#: A method given ids of workspace ``a`` from a unit of work of workspace ``b``
#: (with ``b``'s own ids where it takes several): refused, or the answer it gives.
CROSS_WORKSPACE: list[tuple[str, Callable[[UnitOfWork, Tenant, Tenant], Awaitable[Any]], Any]] = [
    (
        "versions.create in its dataset",
        lambda u, a, b: u.versions.create(a.ds.id, [row("x")], "h" * 64, SPLIT, None, "", "", 0),
        Refused("dataset"),
    ),
    (
        "versions.create after its version",
        lambda u, a, b: u.versions.create(b.ds.id, [row("x")], "h" * 64, SPLIT, a.v2, "", "", 0),
        Refused("version"),
    ),
    (
        "versions.set_tag in its dataset",
        lambda u, a, b: u.versions.set_tag(a.ds.id, "prod", a.v2.id, "me"),
        Refused("version"),
    ),
    (
        "versions.set_tag to its version",
        lambda u, a, b: u.versions.set_tag(b.ds.id, "prod", a.v2.id, "me"),
        Refused("version"),
    ),
    ("versions.delete_tag", lambda u, a, b: u.versions.delete_tag(a.ds.id, "prod"), False),
    ("versions.holds", lambda u, a, b: u.versions.holds(a.v1.id), []),
    (
        "versions.add_hold",
        lambda u, a, b: u.versions.add_hold(a.v2.id, "job", "x"),
        Refused("version"),
    ),
    (
        "versions.release_hold",
        lambda u, a, b: u.versions.release_hold(a.v1.id, "job", "keep"),
        None,
    ),
    ("versions.delete", lambda u, a, b: u.versions.delete(a.v1.id), set()),
    (
        "versions.add_derivation of its version",
        lambda u, a, b: u.versions.add_derivation(a.v1.id, b.v1.id, "x", {}, sha("x"), None),
        Refused("version"),
    ),
    (
        "versions.add_derivation from its version",
        lambda u, a, b: u.versions.add_derivation(b.v1.id, a.v1.id, "x", {}, sha("x"), None),
        Refused("version"),
    ),
    (
        "versions.add_derivation by its job",
        lambda u, a, b: u.versions.add_derivation(b.v1.id, b.v2.id, "x", {}, sha("x"), a.job),
        Refused("job"),
    ),
    ("versions.file_sizes", lambda u, a, b: u.versions.file_sizes(a.v2.id), {}),
    (
        "files.stage into its dataset",
        lambda u, a, b: u.files.stage(a.ds.id, [StagedFile("x", sha("x"), 1, "image")]),
        Refused("dataset"),
    ),
    (
        "files.stage removing from its dataset",
        lambda u, a, b: u.files.stage(a.ds.id, [], remove=["a.jpg"]),
        Refused("dataset"),
    ),
    ("files.working_bytes", lambda u, a, b: u.files.working_bytes(a.ds.id), 0),
    (
        "labels.set_schema",
        lambda u, a, b: u.labels.set_schema(a.ds.id, {"classes": ["x"]}, "me"),
        Refused("dataset"),
    ),
    ("models.add_version to its model", lambda u, a, b: register(u, a.model), Refused("model")),
    (
        "models.add_version on its data",
        lambda u, a, b: register(u, b.model, dataset_version_id=a.v1.id),
        Refused("version"),
    ),
    (
        "models.add_version by its run",
        lambda u, a, b: register(u, b.model, dataset_version_id=b.v1.id, run_id=a.job),
        Refused("job"),
    ),
    (
        "models.add_version exporting its version",
        lambda u, a, b: register(u, b.model, parent_version_id=a.mv),
        Refused("model version"),
    ),
    (
        "models.set_tag on its model",
        lambda u, a, b: u.models.set_tag(a.model, "x", a.mv, "me"),
        Refused("model version"),
    ),
    (
        "models.set_tag to its version",
        lambda u, a, b: u.models.set_tag(b.model, "production", a.mv, "me"),
        Refused("model version"),
    ),
    (
        "evaluations.add by its job",
        lambda u, a, b: u.evaluations.add("e", a.job, b.mv, b.v1.id, "val", {}, {}, "me"),
        Refused("job"),
    ),
    (
        "evaluations.add of its model version",
        lambda u, a, b: u.evaluations.add("e", b.job, a.mv, b.v1.id, "val", {}, {}, "me"),
        Refused("model version"),
    ),
    (
        "evaluations.add on its data",
        lambda u, a, b: u.evaluations.add("e", b.job, b.mv, a.v1.id, "val", {}, {}, "me"),
        Refused("version"),
    ),
    ("webhooks.cursor", lambda u, a, b: u.webhooks.cursor(a.hook), 0),
    ("webhooks.advance", lambda u, a, b: u.webhooks.advance(a.hook, 99), None),
    (
        "webhooks.log_delivery",
        lambda u, a, b: u.webhooks.log_delivery(a.hook, 2, "job.done", 1, "delivered", 200, 1.0),
        Refused("webhook"),
    ),
]


class CatalogContract:
    async def open_catalog(self, tmp_path: Path) -> Catalog:
        raise NotImplementedError

    @pytest.fixture
    def run(self, tmp_path: Path) -> Callable[[Body], Any]:
        def go(body: Body) -> Any:
            async def main() -> Any:
                catalog = await self.open_catalog(tmp_path)
                try:
                    return await body(catalog)
                finally:
                    await catalog.close()

            return asyncio.run(main())

        return go

    # -- the unit of work ------------------------------------------------------

    def test_a_unit_of_work_that_raises_keeps_nothing(self, run):
        async def body(cat: Catalog) -> None:
            with pytest.raises(RuntimeError):
                async with cat.writing(WS) as uow:
                    await dataset(uow)
                    raise RuntimeError("boom")
            async with cat.reading(WS) as uow:
                assert await uow.datasets.list() == []
                assert uow.ws == WS

        run(body)

    @pytest.mark.parametrize("bad", ["", "../etc", "has space", "a/b"])
    def test_a_workspace_id_must_be_a_plain_name(self, run, bad):
        async def body(cat: Catalog) -> None:
            with pytest.raises(InvalidInput, match="workspace id"):
                async with cat.reading(bad):
                    pass

        run(body)

    # -- workspace isolation ---------------------------------------------------

    def test_no_repository_reads_another_workspace(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                ds = await dataset(uow)
                v = await version(uow, ds, ["a.jpg"])
                await uow.labels.set_schema(ds.id, {"classes": []}, "me")
                await uow.reviews.set(ds.id, "a.jpg", "submitted", None, annotator="ann")
                await uow.reviews.add_activity(ds.id, "a.jpg", "ann", "save", None)
                await uow.streams.add_events(ds.id, "s", [("e1", 1, "a.jpg", "set", None)], "me")
                await job(uow)
                await uow.jobs.add_events("j1", [("log", {"line": "x"})])
                await uow.jobs.add_artifact("j1", "weights.pt", sha("w"), 1)
                await uow.idempotency.remember("me", "k", "h", 201, b"{}")
                model = await uow.models.ensure("m", "detect", "me")
                mv = await uow.models.add_version(
                    model["id"],
                    source="upload",
                    weights_sha256=sha("w"),
                    weights_size=1,
                    format="pt",
                    actor="me",
                )
                await uow.webhooks.add("h1", "http://x.invalid/", ["*"], "s", "me")
                await uow.audit.record("me", "dataset.create", "ds")
            async with cat.reading(OTHER) as other:
                with pytest.raises(NotFound):
                    await other.datasets.get("ds")
                assert await other.datasets.list() == []
                assert await other.files.working(ds.id) == {}
                assert await other.files.working_file(ds.id, "a.jpg") is None
                assert await other.files.known({sha("a.jpg")}) == set()
                assert await other.files.sizes({sha("a.jpg")}) == {}
                assert await other.files.stored_bytes() == 0
                assert await other.versions.head(ds.id) is None
                assert await other.versions.by_id(v.id) is None
                assert await other.versions.list(ds.id) == []
                assert await other.versions.manifest(v.id) == []
                assert await other.versions.file_sizes(v.id) == {}
                assert await other.versions.derivation(v.id) is None
                with pytest.raises(NotFound):
                    await other.versions.get(ds.id, "1")
                assert await other.storage.all_digests() == set()
                assert await other.storage.live_digests() == set()
                assert await other.storage.erased() == set()
                assert await other.labels.schema(ds.id) is None
                assert await other.reviews.get(ds.id, "a.jpg") is None
                assert await other.reviews.by_file(ds.id) == {}
                assert await other.reviews.activity(ds.id) == []
                assert await other.streams.offset(ds.id, "s") is None
                assert (await other.streams.state(ds.id, "s"))["events"] == 0
                assert await other.streams.known_event_ids(ds.id, "s", {"e1"}) == set()
                assert await other.jobs.list() == []
                assert await other.jobs.events("j1") == []
                assert await other.jobs.artifacts("j1") == []
                with pytest.raises(NotFound):
                    await other.jobs.get("j1")
                assert await other.idempotency.answer("me", "k") is None
                with pytest.raises(NotFound):
                    await other.models.get("m")
                assert await other.models.list() == []
                assert await other.models.versions(model["id"]) == []
                assert await other.evaluations.of(mv["id"]) == []
                with pytest.raises(NotFound):
                    await other.models.version(model["id"], "latest")
                assert await other.webhooks.list() == []
                with pytest.raises(NotFound):
                    await other.webhooks.get("h1")
                with pytest.raises(NotFound):
                    await other.webhooks.secret("h1")
                with pytest.raises(NotFound):
                    await other.webhooks.deliveries("h1")
                assert await other.audit.entries() == []
                assert await other.audit.since(0) == []

        run(body)

    @pytest.mark.parametrize(
        ("call", "answer"),
        [case[1:] for case in CROSS_WORKSPACE],
        ids=[case[0] for case in CROSS_WORKSPACE],
    )
    def test_an_id_of_another_workspace_is_refused_or_ignored(self, run, call, answer):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                a = await tenant(uow, "a")
            async with cat.writing(OTHER) as uow:
                b = await tenant(uow, "b")
            before = (await seen(cat, WS, a), await seen(cat, OTHER, b))
            async with cat.writing(OTHER) as other:  # kept, whatever the call did
                if isinstance(answer, Refused):
                    with pytest.raises(NotFound) as refused:
                        await call(other, a, b)
                    assert refused.value.kind == answer.kind
                else:
                    assert await call(other, a, b) == answer
            assert (await seen(cat, WS, a), await seen(cat, OTHER, b)) == before

        run(body)

    def test_no_repository_writes_another_workspace(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                ds = await dataset(uow)
                await job(uow)
                model = await uow.models.ensure("m", "detect", "me")
                mv = await register(uow, model["id"])
            async with cat.writing(OTHER) as other:
                await other.models.set_metrics(mv["id"], {"map": 1.0})
                await other.reviews.set(ds.id, "a.jpg", "approved", None)
                await other.reviews.set_many(ds.id, [("b.jpg", "approved", None, "x")])
                await other.reviews.add_activities(ds.id, [("a.jpg", "x", "save", None)])
                await other.streams.add_events(ds.id, "s", [("e1", 1, "a.jpg", "set", None)], "x")
                with contextlib.suppress(NotFound):  # ignored or refused: never written
                    await other.jobs.update("j1", state="failed")
                with pytest.raises(NotFound):
                    await other.jobs.add_events("j1", [("log", {})])
                with pytest.raises(NotFound):
                    await other.jobs.add_artifact("j1", "x", sha("x"), 1)
                await other.datasets.soft_delete(ds.id)
            async with cat.reading(WS) as uow:
                assert await uow.reviews.by_file(ds.id) == {}
                assert await uow.reviews.activity(ds.id) == []
                assert await uow.streams.offset(ds.id, "s") is None
                assert (await uow.jobs.get("j1"))["state"] == "queued"
                assert await uow.jobs.events("j1") == []
                assert (await uow.datasets.get("ds")).deleted_at is None
                assert (await uow.models.version(model["id"], "1"))["metrics"] == {}

        run(body)

    # -- not found and conflicts -----------------------------------------------

    @pytest.mark.parametrize(
        ("what", "call"),
        [
            ("dataset", lambda u: u.datasets.get("nope")),
            ("version", lambda u: u.versions.get(1, "latest")),
            ("job", lambda u: u.jobs.get("nope")),
            ("job events", lambda u: u.jobs.add_events("nope", [("log", {})])),
            ("model", lambda u: u.models.get("nope")),
            ("model version", lambda u: u.models.version(1, "1")),
            ("evaluation", lambda u: u.evaluations.get("nope")),
            ("webhook", lambda u: u.webhooks.get("nope")),
            ("webhook deletion", lambda u: u.webhooks.delete("nope")),
            ("webhook deliveries", lambda u: u.webhooks.deliveries("nope")),
            (
                "version of a dataset",
                lambda u: u.versions.create(1, [], "", SPLIT, None, "", "", 0),
            ),
            ("version tag", lambda u: u.versions.set_tag(1, "prod", 1, "me")),
            ("version hold", lambda u: u.versions.add_hold(1, "job", "j1")),
            ("derivation", lambda u: u.versions.add_derivation(1, 1, "x", {}, "", None)),
            ("staging", lambda u: u.files.stage(1, [])),
            ("label schema", lambda u: u.labels.set_schema(1, {}, "me")),
            ("version of a model", lambda u: register(u, 1)),
            ("model tag", lambda u: u.models.set_tag(1, "production", 1, "me")),
            ("evaluation of nothing", lambda u: u.evaluations.add("e", "j", 1, 1, "", {}, {}, "")),
            (
                "webhook delivery",
                lambda u: u.webhooks.log_delivery("nope", 1, "x", 1, "", 200, 1.0),
            ),
        ],
    )
    def test_what_is_not_there_raises_not_found(self, run, what, call):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                with pytest.raises(NotFound):
                    await call(uow)

        run(body)

    def test_a_live_slug_is_taken_and_a_deleted_one_is_free(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                ds = await dataset(uow)
                with pytest.raises(Conflict, match="already exists"):
                    await dataset(uow)
                await uow.datasets.soft_delete(ds.id)
                with pytest.raises(NotFound):
                    await uow.datasets.get("ds")
                again = await dataset(uow)
                assert again.id != ds.id
                assert [d.id for d, _, _ in await uow.datasets.list()] == [again.id]

        run(body)

    # -- versions, manifests, holds --------------------------------------------

    def test_versions_by_number_tag_and_latest(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                ds = await dataset(uow)
                v1 = await version(uow, ds, ["a.jpg"])
                v2 = await version(uow, ds, ["a.jpg", "b.jpg"])
                await uow.versions.set_tag(ds.id, "prod", v1.id, "me")
                get = uow.versions.get
                assert (v1.number, v2.number, v2.parent_number) == (1, 2, 1)
                assert [(await get(ds.id, r)).id for r in ("1", "v1", "prod")] == [v1.id] * 3
                assert (await get(ds.id, "latest")).id == (await get(ds.id, " 2 ")).id == v2.id
                assert (await get(ds.id, "prod")).tags == ("prod",)
                for missing in ("3", "v0", "nope", "9" * 30, "²"):
                    with pytest.raises(NotFound):
                        await get(ds.id, missing)
                await uow.versions.set_tag(ds.id, "prod", v2.id, "me")
                assert (await get(ds.id, "prod")).id == v2.id
                assert await uow.versions.delete_tag(ds.id, "prod") is True
                assert await uow.versions.delete_tag(ds.id, "prod") is False
                assert [v.number for v in await uow.versions.list(ds.id)] == [2, 1]
                assert [(d.slug, n, f) for d, n, f in await uow.datasets.list()] == [("ds", 2, 2)]
                await uow.versions.delete(v2.id)
                assert (await get(ds.id, "latest")).id == v1.id
                deleted = await uow.versions.by_id(v2.id)  # still there: lineage walks it
                assert deleted is not None and deleted.deleted_at is not None
                with pytest.raises(NotFound):
                    await get(ds.id, "2")
                elsewhere = await version(uow, await dataset(uow, "other"), ["c.jpg"])
                with pytest.raises(NotFound):  # a tag names a version of its own dataset
                    await uow.versions.set_tag(ds.id, "prod", elsewhere.id, "me")

        run(body)

    def test_a_manifest_is_in_code_point_order(self, run):
        names = ["b.jpg", "B.jpg", "a/z.jpg", "a/é.jpg", "Z.jpg", "ä.jpg", "a.jpg", "a-b.jpg"]

        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                v = await version(uow, await dataset(uow), names)
                manifest = await uow.versions.manifest(v.id)
            assert [r.filename for r in manifest] == sorted(names)
            assert manifest[0] == row("B.jpg")

        run(body)

    def test_holds_are_kept_once_and_released(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                v = await version(uow, await dataset(uow), ["a.jpg"])
                for kind, ref in [("model", "m:1"), ("job", "j1"), ("model", "m:1")]:
                    await uow.versions.add_hold(v.id, kind, ref)
                assert [(h.holder_kind, h.holder_ref) for h in await uow.versions.holds(v.id)] == [
                    ("model", "m:1"),
                    ("job", "j1"),
                ]
                await uow.versions.release_hold(v.id, "model", "m:1")
                assert [h.holder_ref for h in await uow.versions.holds(v.id)] == ["j1"]

        run(body)

    def test_staging_and_the_grace_clock_of_unreferenced_files(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                ds = await dataset(uow)
                files = [StagedFile(n, sha(n), 10, "image") for n in ("a.jpg", "b.jpg")]
                first = await uow.files.stage(ds.id, files)
                again = await uow.files.stage(ds.id, files, remove=["b.jpg"])
                assert (first.added, again.unchanged, again.removed) == (2, 2, 1)
                assert sorted(await uow.files.working(ds.id)) == ["a.jpg"]
                assert await uow.files.known({sha("a.jpg"), sha("c")}) == {sha("a.jpg")}
                assert await uow.files.working_bytes(ds.id) == 10
                assert await uow.files.stored_bytes() == 20
                assert await uow.storage.live_digests() == {sha("a.jpg")}
                assert await uow.storage.reclaimable(cutoff=float("inf")) == [(sha("b.jpg"), 10)]
                await uow.storage.forget({sha("b.jpg")})
                assert await uow.storage.all_digests() == {sha("a.jpg")}

        run(body)

    def test_an_erased_content_leaves_working_areas_and_keeps_its_tombstone(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                ds = await dataset(uow)
                await version(uow, ds, ["a.jpg"])
                assert await uow.storage.erase(sha("a.jpg"), "gdpr", "me") == [("ds", "a.jpg")]
                assert await uow.files.working(ds.id) == {}
                assert await uow.files.erased({sha("a.jpg"), sha("b")}) == {sha("a.jpg")}
                assert await uow.storage.erased() == {sha("a.jpg")}
                record = await uow.storage.erasure(sha("a.jpg"))
                assert record is not None and (record["reason"], record["actor"]) == ("gdpr", "me")
                assert await uow.storage.erasure(sha("b")) is None

        run(body)

    # -- jobs, events, artifacts, idempotency ----------------------------------

    def test_a_job_moves_through_its_states(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                await job(uow, "j1")
                queued = await uow.jobs.get("j1")
            async with cat.writing(WS) as uow:
                await job(uow, "j2")
                await uow.jobs.update("j1", state="running", started_at=5.0, devices=["0", "1"])
                await uow.jobs.update("j1", progress={"done": 1, "total": 2, "unit": "epoch"})
                await uow.jobs.update("j1", state="succeeded", result={"map": 0.5}, pgid=None)
                done = await uow.jobs.get("j1")
                listed = await uow.jobs.list()
            assert (queued["state"], queued["params"], queued["request"]) == (
                "queued",
                {"epochs": 1},
                {"gpus": 1},
            )
            assert (queued["devices"], queued["result"], queued["started_at"]) == ([], None, None)
            assert (done["state"], done["started_at"], done["devices"]) == (
                "succeeded",
                5.0,
                ["0", "1"],
            )
            assert (done["progress"]["done"], done["result"]) == (1, {"map": 0.5})
            assert [j["id"] for j in listed] == ["j2", "j1"]  # newest first

        run(body)

    def test_job_events_are_numbered_in_order(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                await job(uow)
                assert (
                    await uow.jobs.add_events("j1", [("log", {"n": 1}), ("metrics", {"n": 2})]) == 2
                )
            async with cat.writing(WS) as uow:
                assert await uow.jobs.add_events("j1", [("log", {"n": 3})]) == 3
                every = await uow.jobs.events("j1")
                assert [(e["seq"], e["kind"], e["data"]) for e in every] == [
                    (1, "log", {"n": 1}),
                    (2, "metrics", {"n": 2}),
                    (3, "log", {"n": 3}),
                ]
                assert [e["seq"] for e in await uow.jobs.events("j1", after=1)] == [2, 3]
                assert [e["seq"] for e in await uow.jobs.events("j1", kinds=("log",))] == [1, 3]
                assert [e["seq"] for e in await uow.jobs.events("j1", limit=1)] == [1]

        run(body)

    def test_artifacts_are_named_and_keep_their_file(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                await job(uow)
                await uow.jobs.add_artifact("j1", "log.txt", sha("l1"), 2)
                await uow.jobs.add_artifact("j1", "best.pt", sha("w"), 7)
                await uow.jobs.add_artifact("j1", "log.txt", sha("l2"), 3)
                assert await uow.jobs.artifacts("j1") == [
                    {"name": "best.pt", "sha256": sha("w"), "size": 7},
                    {"name": "log.txt", "sha256": sha("l2"), "size": 3},
                ]
                assert await uow.storage.live_digests() == {sha("w"), sha("l2")}

        run(body)

    def test_an_idempotent_answer_is_kept_once_per_principal(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                assert await uow.idempotency.answer("ann", "k") is None
                await uow.idempotency.remember("ann", "k", "h1", 201, b'{"a": 1}')
                await uow.idempotency.remember("ann", "k", "h2", 500, b"later")
                assert await uow.idempotency.answer("ann", "k") == ("h1", 201, b'{"a": 1}')
                assert await uow.idempotency.answer("bob", "k") is None

        run(body)

    # -- audit -----------------------------------------------------------------

    def test_audit_entries_chain_across_workspaces(self, run):
        async def body(cat: Catalog) -> None:
            for ws, action in [(WS, "a.one"), (OTHER, "b.one"), (WS, "a.two")]:
                async with cat.writing(ws) as uow:
                    await uow.audit.record("me", action, "t", size=1)
            async with cat.accounts(write=True) as acc:
                await acc.audit.record(None, "admin", "box.thing", "t", "denied")
                head = await acc.audit.head()
                check = await acc.audit.check()
            async with cat.reading(WS) as uow:
                newest = await uow.audit.entries()
                older = await uow.audit.entries(before_id=newest[0]["id"])
                since = await uow.audit.since(newest[1]["id"])
            assert [e["action"] for e in newest] == ["a.two", "a.one"]
            assert newest[0]["detail"] == {"size": 1} and newest[0]["workspace"] == WS
            assert [e["action"] for e in older] == ["a.one"] and since == [newest[0]]
            assert check.ok and check.entries == 4 and head == (check.head_id, check.head)
            assert head is not None
            async with cat.accounts() as acc:
                assert (await acc.audit.check([Checkpoint(head[0], head[1], 0.0)])).ok
                forged = Checkpoint(head[0], "0" * 64, 0.0)
                assert not (await acc.audit.check([forged])).ok

        run(body)

    # -- models and evaluations ------------------------------------------------

    def test_model_versions_by_number_tag_and_latest(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                other = await uow.models.ensure("o", "detect", "me")  # ids are not numbers
                of_other = await uow.models.add_version(
                    other["id"],
                    source="upload",
                    weights_sha256=sha("o"),
                    weights_size=1,
                    format="pt",
                    actor="me",
                    metrics={},
                )
                model = await uow.models.ensure("m", "detect", "me")
                assert await uow.models.ensure("m", "detect", "you") == model
                with pytest.raises(InvalidInput):
                    await uow.models.ensure("m", "classify", "me")
                for w in ("w1", "w2"):
                    await uow.models.add_version(
                        model["id"],
                        source="upload",
                        weights_sha256=sha(w),
                        weights_size=1,
                        format="pt",
                        actor="me",
                        metrics={"map": 0.1},
                    )
                v1 = await uow.models.version(model["id"], "1")
                await uow.models.set_tag(model["id"], "production", v1["id"], "me")
                with pytest.raises(NotFound):  # a tag names a version of its own model
                    await uow.models.set_tag(model["id"], "production", of_other["id"], "me")
                await uow.models.set_metrics(v1["id"], {"map": 0.9})
                version = uow.models.version
                assert (await version(model["id"], "latest"))["number"] == 2
                assert (await version(model["id"], "v2"))["weights_sha256"] == sha("w2")
                tagged = await version(model["id"], "production")
                assert (tagged["number"], tagged["tags"], tagged["metrics"]) == (
                    1,
                    ["production"],
                    {"map": 0.9},
                )
                assert [v["number"] for v in await uow.models.versions(model["id"])] == [2, 1]
                [summary] = [m for m in await uow.models.list() if m["name"] == "m"]
                assert (summary["name"], summary["latest"], summary["versions"]) == ("m", 2, 2)
                assert summary["tags"] == {"production": 1}  # tag → version number
                assert await uow.storage.live_digests() == {sha("o"), sha("w1"), sha("w2")}

        run(body)

    def test_evaluations_of_a_model_version(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                ds = await dataset(uow)
                v = await version(uow, ds, ["a.jpg"])
                model = await uow.models.ensure("m", "detect", "me")
                mv = await uow.models.add_version(
                    model["id"],
                    source="upload",
                    weights_sha256=sha("w"),
                    weights_size=1,
                    format="pt",
                    actor="me",
                )
                await job(uow, "e1")
                made = await uow.evaluations.add(
                    "e1.pt", "e1", mv["id"], v.id, "val", {"map": 0.5}, {"conf": 0.1}, "me"
                )
                assert made == await uow.evaluations.get("e1.pt")
                assert (made["model"], made["dataset"], made["version"]) == ("m", "ds", 1)
                assert (made["summary"], made["job"]) == ({"map": 0.5}, "e1")
                assert await uow.evaluations.of(mv["id"]) == [made]

        run(body)

    # -- webhooks --------------------------------------------------------------

    def test_a_webhook_hears_from_its_creation_on_and_its_cursor_only_advances(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing(WS) as uow:
                await uow.audit.record("me", "dataset.create", "before")
            async with cat.writing(WS) as uow:
                hook = await uow.webhooks.add("h1", "http://x.invalid/", ["job.*"], "sec", "me")
                start = await uow.webhooks.cursor("h1")
                assert start == (await uow.audit.entries())[0]["id"]
                await uow.webhooks.advance("h1", start + 5)
                await uow.webhooks.advance("h1", start + 2)
                assert await uow.webhooks.cursor("h1") == start + 5
                assert await uow.webhooks.get("h1") == hook and hook["events"] == ["job.*"]
                assert await uow.webhooks.secret("h1") == "sec"
                await uow.webhooks.log_delivery("h1", 1, "job.done", 1, "http_status", 500, 3.0)
                await uow.webhooks.log_delivery("h1", 1, "job.done", 2, "delivered", 200, 2.0)
                deliveries = await uow.webhooks.deliveries("h1")
                assert [(d["attempt"], d["error"]) for d in deliveries] == [
                    (2, None),
                    (1, "the receiver answered HTTP 500"),
                ]
            async with cat.accounts() as acc:
                assert await acc.workspaces.with_webhooks() == [WS]
            async with cat.writing(WS) as uow:
                await uow.webhooks.delete("h1")
                assert await uow.webhooks.list() == []
                with pytest.raises(NotFound):
                    await uow.webhooks.get("h1")
            async with cat.accounts() as acc:
                assert await acc.workspaces.with_webhooks() == []

        run(body)

    # -- accounts --------------------------------------------------------------

    def test_users_and_their_tokens(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.accounts(write=True) as acc:
                ann = await acc.users.create("ann", "hash-a", is_admin=True)
                await acc.users.create("bob", "hash-b", is_admin=False)
                with pytest.raises(Conflict):
                    await acc.users.create("ann", "x", is_admin=False)
                assert await acc.users.count() == 2
                assert await acc.users.by_name("ann") == (ann, "hash-a")
                assert await acc.users.by_name("nobody") is None
                assert await acc.users.by_id(ann.id) == ann
                assert [u.username for u in await acc.users.list()] == ["ann", "bob"]
                pat = await acc.tokens.add("t1", ann.id, "pat", "laptop", "sh", acc.now + 60)
                await acc.tokens.add("t2", ann.id, "session", "session", "sh2", acc.now + 60)
                assert await acc.tokens.get("t1") == (pat, "sh")
                assert await acc.tokens.get("nope") is None
                assert [t.id for t in await acc.tokens.of(ann.id)] == ["t1"]
                assert pat.last_used_at is None and pat.live(acc.now)
            async with cat.accounts(write=True) as acc:
                await acc.tokens.touch("t1")
                await acc.tokens.revoke("t1")
                await acc.tokens.revoke_kind("session")
                used = await acc.tokens.get("t1")
                session = await acc.tokens.get("t2")
                assert used is not None and used[0].last_used_at == acc.now
                assert not used[0].live(acc.now)
                assert session is not None and session[0].revoked_at == acc.now

        run(body)

    def test_workspaces_and_memberships(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.accounts(write=True) as acc:
                ann = await acc.users.create("ann", "h", is_admin=False)
                made = await acc.workspaces.create("team", "the team")
                with pytest.raises(Conflict):
                    await acc.workspaces.create("team", "")
                await acc.workspaces.ensure("team")
                await acc.workspaces.ensure("other")
                await acc.workspaces.set_quota("team", 1000)
                assert (await acc.workspaces.get("team")).quota_bytes == 1000
                assert made.description == "the team"
                with pytest.raises(NotFound):
                    await acc.workspaces.get("nope")
                assert await acc.workspaces.exists("other")
                assert not await acc.workspaces.exists("nope")
                assert [w.id for w in await acc.workspaces.list()] == ["other", "team"]
                await acc.members.set_role("team", ann.id, "viewer")
                await acc.members.set_role("team", ann.id, "editor")
                await acc.members.set_role("other", ann.id, "owner")
                assert await acc.members.role("team", ann.id) == "editor"
                assert await acc.members.of_user(ann.id) == [("other", "owner"), ("team", "editor")]
                assert [(u.username, r) for u, r in await acc.members.list("team")] == [
                    ("ann", "editor")
                ]
                await acc.members.set_role("team", ann.id, None)
                assert await acc.members.role("team", ann.id) is None
                assert await acc.members.list("team") == []

        run(body)

    def test_a_workspace_exists_once_something_is_written_in_it(self, run):
        async def body(cat: Catalog) -> None:
            async with cat.writing("fresh") as uow:
                await dataset(uow)
            async with cat.accounts() as acc:
                assert await acc.workspaces.exists("fresh")

        run(body)
