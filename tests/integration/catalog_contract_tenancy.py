"""The catalog contract's tenancy half: a unit of work is one transaction in one
workspace, and no repository reads or writes another workspace's rows, even when
handed its ids."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from appliance.domain.records import Dataset, StagedFile, Version
from appliance.errors import InvalidInput, NotFound
from appliance.ports.catalog import Catalog, UnitOfWork
from tests.integration.catalog_contract_base import (
    OTHER,
    SPLIT,
    WS,
    ContractBase,
    dataset,
    job,
    register,
    row,
    sha,
    version,
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


class TenancyContract(ContractBase):
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
