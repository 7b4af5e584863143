"""Jobs on the real SQLite catalog: the state machine is enforced where states are
written, storage upkeep runs as a governed kind from submission to its end, a
restart fails what ran and keeps what waited, and rows of the old in-process
runner are ended by the migration and still read fine."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from appliance.adapters.catalog.migrations import MIGRATIONS
from appliance.adapters.catalog.uow import SqliteCatalog
from appliance.adapters.probe.fixed import FixedProbe
from appliance.bootstrap import open_services
from appliance.domain.governor import GIB, MIB, HostReading, ResourceRequest
from appliance.domain.jobs import IllegalMove
from appliance.errors import NotFound
from appliance.jobs.kinds import JobHandle, JobKind, JobKinds, registry
from appliance.runtime.execute import execute
from appliance.services import gc, governed
from appliance.services.context import ServiceContext
from appliance.services.scheduler import Scheduler
from appliance.settings import Settings
from tests.conftest import Engine

pytestmark = pytest.mark.integration

T = TypeVar("T")
WS = "default"
ONE_CORE = HostReading(cores=1, ram_total=64 * GIB, ram_available=60 * GIB, disk_free=50 * GIB)
SMALL = {"cpu_cores": 1, "ram_bytes": 256 * MIB, "gpus": 0, "vram_mib": 0, "disk_bytes": 0}


def run(settings: Settings, fn: Callable[[ServiceContext], Awaitable[T]]) -> T:
    async def main() -> T:
        async with open_services(settings, kinds=registry()) as ctx:
            return await fn(ctx)

    return asyncio.run(main())


def scheduler(ctx: ServiceContext, dispatched: list[str] | None = None) -> Scheduler:
    sink = dispatched if dispatched is not None else []
    return Scheduler(ctx, FixedProbe(ONE_CORE), lambda ws, job_id: sink.append(job_id))


async def job_of(ctx: ServiceContext, job_id: str, ws: str = WS) -> dict[str, Any]:
    async with ctx.catalog.reading(ws) as uow:
        return await uow.jobs.get(job_id)


def test_an_illegal_move_is_refused_by_the_catalog(local_settings: Settings) -> None:
    async def main(ctx: ServiceContext) -> None:
        async with ctx.catalog.writing(WS) as uow:
            await uow.jobs.add("j1", "verify", {"deep": False}, "alice", SMALL)
            await uow.jobs.add("j2", "verify", {"deep": False}, "alice", SMALL)
        with pytest.raises(IllegalMove, match="cannot move from queued to succeeded"):
            async with ctx.catalog.writing(WS) as uow:
                await uow.jobs.update("j2", state="succeeded", result={"ok": True})
        async with ctx.catalog.writing(WS) as uow:
            await uow.jobs.update("j1", state="running", started_at=time.time())
            await uow.jobs.update("j1", state="succeeded", result={"ok": True})
        with pytest.raises(IllegalMove, match="cannot move from succeeded to running") as err:
            async with ctx.catalog.writing(WS) as uow:
                await uow.jobs.update("j1", state="running", started_at=1.0)
        assert err.value.code == "illegal-job-move" and "it has ended" in err.value.hint
        one, two = await job_of(ctx, "j1"), await job_of(ctx, "j2")
        assert one["state"] == "succeeded" and one["started_at"] != 1.0
        assert two["state"] == "queued" and two["result"] is None  # nothing of it was written
        with pytest.raises(NotFound):  # scoped: another workspace's job is not there
            async with ctx.catalog.writing("other") as uow:
                await uow.jobs.update("j2", state="cancelled")
        async with ctx.catalog.writing(WS) as uow:  # what is not a state still changes
            await uow.jobs.update("j1", progress={"done": 1, "total": 1, "unit": "files"})

    run(local_settings, main)


@pytest.mark.parametrize(
    "kind, params, service",
    [
        ("verify", {"deep": True}, lambda ctx: gc.verify(ctx, WS, deep=True)),
        (
            "gc",
            {"grace_seconds": 0, "dry_run": True},
            lambda ctx: gc.collect(ctx, WS, "x", 0, True),
        ),
    ],
    ids=["verify", "gc"],
)
def test_storage_upkeep_runs_as_a_governed_job(
    engine: Engine, tmp_path: Path, kind: str, params: dict[str, Any], service: Any
) -> None:
    engine.seed(tmp_path / "src", 5)

    async def main(ctx: ServiceContext) -> None:
        job = await governed.submit(ctx, WS, kind, params, "alice", FixedProbe(ONE_CORE))
        assert job["state"] == "queued" and job["request"]["cpu_cores"] == 1
        assert job["params"] == governed_params(kind, params)
        dispatched: list[str] = []
        assert await scheduler(ctx, dispatched).tick() == [job["id"]] == dispatched
        assert await execute(ctx, WS, job["id"]) == "succeeded"
        done = await job_of(ctx, job["id"])
        assert done["result"] == (await service(ctx)).as_dict()
        async with ctx.catalog.reading(WS) as uow:
            actions = [(e["actor"], e["action"]) for e in await uow.audit.entries(limit=20)]
        assert ("alice", "job.succeeded") in actions and ("scheduler", "job.admitted") in actions

    run(engine.settings, main)


def governed_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"grace_seconds": 0, "dry_run": True} if kind == "gc" else params


def test_a_restart_fails_what_ran_and_keeps_what_waited(local_settings: Settings) -> None:
    async def main(ctx: ServiceContext) -> None:
        probe = FixedProbe(ONE_CORE)
        first = await governed.submit(ctx, WS, "verify", {}, "alice", probe)
        second = await governed.submit(ctx, WS, "verify", {}, "alice", probe)
        sched = scheduler(ctx)
        assert await sched.tick() == [first["id"]]  # one core: the second waits
        assert await sched.fail_running("the appliance restarted while it ran") == 1
        failed, waiting = await job_of(ctx, first["id"]), await job_of(ctx, second["id"])
        assert failed["state"] == "failed" and failed["error"]["code"] == "interrupted"
        assert waiting["state"] == "queued"
        assert await execute(ctx, WS, first["id"]) == "failed"  # a late pickup runs nothing
        assert await sched.tick() == [second["id"]]
        assert await execute(ctx, WS, second["id"]) == "succeeded"

    run(local_settings, main)


def test_a_job_failed_while_it_ran_keeps_that_end(local_settings: Settings) -> None:
    """The worker was cut off (serve failed its jobs) but its run still returned:
    the success it would record is an illegal move, and is not recorded."""

    async def cut_off(handle: JobHandle) -> dict[str, Any]:
        await Scheduler(handle.ctx, FixedProbe(ONE_CORE), print).fail_running("serve restarted")
        return {"done": True}

    kind = JobKind(
        name="cut-off",
        summary="fails itself from outside while it runs",
        validate=lambda p: p,
        request=lambda p, host: ResourceRequest(cpu_cores=1, ram_bytes=256 * MIB),
        run=cut_off,
    )

    async def main(ctx: ServiceContext) -> None:
        ctx = dataclasses.replace(ctx, kinds=JobKinds([kind]))
        job = await governed.submit(ctx, WS, "cut-off", {}, "alice", FixedProbe(ONE_CORE))
        await scheduler(ctx).tick()
        assert await execute(ctx, WS, job["id"]) == "failed"
        ended = await job_of(ctx, job["id"])
        assert ended["state"] == "failed" and ended["result"] is None
        assert ended["error"]["detail"] == "serve restarted"

    run(local_settings, main)


def test_jobs_of_the_old_runner_are_ended_and_still_read(tmp_path: Path) -> None:
    """Rows from before there was one job system have no resource request; the
    migration fails those it left unended, and they list and show as before."""
    path = tmp_path / "catalog.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at REAL NOT NULL)"
    )
    for version, name, sql in (m for m in MIGRATIONS if m[0] < 10):
        for statement in filter(str.strip, sql.split(";")):
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, 0.0))
    db.execute("INSERT INTO workspaces (id, created_at) VALUES (?, 0)", (WS,))
    for i, state in enumerate(("queued", "running", "succeeded", "failed")):
        db.execute(
            "INSERT INTO jobs (id, workspace_id, kind, state, params_json, result_json,"
            " created_by, created_at) VALUES (?, ?, 'gc', ?, '{\"dry_run\": true}', ?, 'old', ?)",
            (f"old-{state}", WS, state, '{"marked": 0}' if state == "succeeded" else None, i),
        )
    db.commit()
    db.close()

    async def main() -> list[dict[str, Any]]:
        catalog = await SqliteCatalog(path).open()
        try:
            async with catalog.scheduling() as queue:
                assert await queue.active_jobs() == []
            async with catalog.reading(WS) as uow:
                assert (await uow.jobs.get("old-succeeded"))["result"] == {"marked": 0}
                return await uow.jobs.list()
        finally:
            await catalog.close()

    jobs = {j["id"]: j for j in asyncio.run(main())}
    assert {k: j["state"] for k, j in jobs.items()} == {
        "old-queued": "failed",
        "old-running": "failed",
        "old-succeeded": "succeeded",
        "old-failed": "failed",
    }
    cut = jobs["old-running"]
    assert cut["error"]["code"] == "interrupted" and cut["finished_at"] > 0
    assert jobs["old-failed"]["error"] is None  # an ended job is left as it was
    assert all(j["request"] is None and j["admission"] is None for j in jobs.values())
