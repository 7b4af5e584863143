"""Governed jobs: submit against the box's capacity, cancel, read their events and
artifacts; and the box's capacity as the governor sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from appliance.domain.access import Permission as P
from appliance.errors import ServiceFailed
from appliance.services import governed, job_records
from appliance.services import job_kinds as kinds
from appliance.services.context import ServiceContext
from appliance.services.idempotency import Once
from appliance.services.workspaces import Grant
from appliance.web.access import CtxDep, GrantDep, needs, somewhere
from appliance.web.dto import JobIn
from appliance.web.idempotency import exactly_once
from appliance.web.queries import After
from appliance.web.routes.plugins import list_plugins

W = "/workspaces/{ws:str}"


def _governor(request: Request[Any, Any, Any]) -> Any:
    """The governor `ahoy serve` runs (probe, scheduler, worker); see appliance.runtime."""
    gov = request.app.state.governor
    if gov is None:
        raise ServiceFailed(
            "the job governor is not running in this process", hint="start it with `ahoy serve`"
        )
    return gov


async def submit(
    request: Request[Any, Any, Any],
    ctx: ServiceContext,
    grant: Grant,
    kind: str,
    params: dict[str, Any],
) -> Response[Any]:
    """Submit a job of ``kind`` and wake the scheduler: 202 with the job (what every
    route that starts a job answers)."""
    gov = _governor(request)

    async def create(once: Once | None) -> Mapping[str, Any]:
        job = await governed.submit(
            ctx, grant.workspace, kind, params, grant.actor, gov.probe, once=once
        )
        gov.scheduler.wake()
        return job

    return await exactly_once(request, ctx, grant, create, status=202)


@post(
    W + "/jobs",
    opt=needs(P.JOB_SUBMIT),
    status_code=202,
    summary="Submit a governed job: admitted now, queued (with its position) or refused",
)
async def submit_job(
    request: Request[Any, Any, Any], ctx: CtxDep, grant: GrantDep, data: JSONBody[JobIn]
) -> Any:
    return await submit(request, ctx, grant, data.kind, data.params)


@post(
    W + "/jobs/{job_id:str}/cancel",
    opt=needs(P.JOB_SUBMIT),
    status_code=200,
    summary="Cancel a job: a queued one at once, a running one by killing its processes",
)
async def cancel_job(
    request: Request[Any, Any, Any], ctx: CtxDep, grant: GrantDep, job_id: FromPath[str]
) -> Mapping[str, Any]:
    job = await governed.cancel(ctx, grant.workspace, job_id, grant.actor)
    if request.app.state.governor is not None:
        request.app.state.governor.scheduler.wake()
    return job


@get(W + "/jobs/{job_id:str}/log", opt=needs(P.JOB_READ), summary="A job's recorded events")
async def job_log(
    ctx: CtxDep,
    grant: GrantDep,
    job_id: FromPath[str],
    after: After = 0,
    kind: FromQuery[str | None] = None,
) -> dict[str, Any]:
    return await job_records.log(ctx, grant.workspace, job_id, after, kind)


@get(W + "/jobs/{job_id:str}/artifacts", opt=needs(P.JOB_READ), summary="Files a job made")
async def job_artifacts(ctx: CtxDep, grant: GrantDep, job_id: FromPath[str]) -> dict[str, Any]:
    return await job_records.artifacts(ctx, grant.workspace, job_id)


@get(W + "/job-kinds", opt=needs(P.JOB_READ), summary="The kinds of governed jobs")
async def job_kinds(ctx: CtxDep) -> dict[str, Any]:
    return await kinds.describe(ctx)


@get(
    "/capacity",
    opt=somewhere(P.JOB_SUBMIT),
    summary="The box's capacity now, and how many jobs run and wait",
)
async def capacity(request: Request[Any, Any, Any], ctx: CtxDep) -> dict[str, Any]:
    gov = _governor(request)
    return {**await governed.capacity(ctx, gov.probe), "worker": gov.worker.state}


#: Served by the jobs router (one router per path: litestar merges methods only there).
HANDLERS = [submit_job, cancel_job, job_log, job_artifacts, job_kinds, capacity, list_plugins]
