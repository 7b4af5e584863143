"""The Catalog contract: what every adapter of ``appliance/ports/catalog`` does, once.

An adapter's test module subclasses ``CatalogContract`` and provides
``open_catalog(tmp_path)`` (a new, empty, opened catalog), like huey's
``StorageTests``. Each test runs one async body on its own catalog through the
``run`` fixture. Only the ports are used: no SQL, so a PostgreSQL adapter runs
the same suite. The tenancy half (one workspace per unit of work, no repository
reaching another's rows) is ``catalog_contract_tenancy.TenancyContract``.
"""

from __future__ import annotations

import pytest

from appliance.domain.audit_chain import Checkpoint
from appliance.domain.records import StagedFile
from appliance.errors import Conflict, InvalidInput, NotFound
from appliance.ports.catalog import Catalog
from tests.integration.catalog_contract_base import (
    OTHER,
    WS,
    dataset,
    job,
    row,
    sha,
    version,
)
from tests.integration.catalog_contract_tenancy import TenancyContract


class CatalogContract(TenancyContract):
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
