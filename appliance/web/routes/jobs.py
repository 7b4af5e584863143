"""Storage upkeep as jobs (GC, verify), erasure, and the job resources with SSE."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage

from appliance.domain.access import Permission as P
from appliance.services import erasure, job_records
from appliance.services.idempotency import Once
from appliance.services.job_watch import poll_watch
from appliance.web.access import CtxDep, GrantDep, needs
from appliance.web.dto import ErasureIn, GcIn, VerifyIn
from appliance.web.idempotency import exactly_once
from appliance.web.pagination import page
from appliance.web.queries import After, Limit
from appliance.web.routes.queue import HANDLERS as QUEUE
from appliance.web.routes.queue import submit

W = "/workspaces/{ws:str}"


@post(
    W + "/gc",
    opt=needs(P.STORAGE_MANAGE),
    status_code=202,
    summary="Reclaim unreferenced blobs (a job)",
)
async def run_gc(
    request: Request[Any, Any, Any], ctx: CtxDep, grant: GrantDep, data: JSONBody[GcIn]
) -> Response[Any]:
    params = {"grace_seconds": data.grace_seconds, "dry_run": data.dry_run}
    return await submit(request, ctx, grant, "gc", params)


@post(
    W + "/verify",
    opt=needs(P.STORAGE_MANAGE),
    status_code=202,
    summary="Check every blob resolves (a job)",
)
async def run_verify(
    request: Request[Any, Any, Any], ctx: CtxDep, grant: GrantDep, data: JSONBody[VerifyIn]
) -> Response[Any]:
    return await submit(request, ctx, grant, "verify", {"deep": data.deep})


@post(W + "/erasures", opt=needs(P.ERASURE_RUN), summary="GDPR erasure of one content")
async def erase(
    request: Request[Any, Any, Any], ctx: CtxDep, grant: GrantDep, data: JSONBody[ErasureIn]
) -> Response[Any]:
    async def create(once: Once | None) -> dict[str, Any]:
        r = await erasure.erase(
            ctx,
            grant.workspace,
            grant.actor,
            data.reason,
            sha256=data.sha256,
            dataset=data.dataset,
            filename=data.file,
            version=data.version,
            once=once,
        )
        return r.as_dict()

    return await exactly_once(request, ctx, grant, create)


@get(W + "/jobs", opt=needs(P.JOB_READ), summary="Jobs, newest first")
async def list_jobs(
    ctx: CtxDep, grant: GrantDep, limit: Limit = 100, cursor: FromQuery[str | None] = None
) -> dict[str, Any]:
    jobs = await job_records.list_all(ctx, grant.workspace)
    return page(jobs, lambda j: [-j["created_at"], j["id"]], cursor, limit)


@get(W + "/jobs/{job_id:str}", opt=needs(P.JOB_READ), summary="One job")
async def show_job(ctx: CtxDep, grant: GrantDep, job_id: FromPath[str]) -> Mapping[str, Any]:
    return await job_records.show(ctx, grant.workspace, job_id)


@get(
    W + "/jobs/{job_id:str}/events",
    opt=needs(P.JOB_READ),
    media_type="text/event-stream",
    summary="The job's state and progress as Server-Sent Events, until it ends",
)
async def job_events(
    request: Request[Any, Any, Any],
    ctx: CtxDep,
    grant: GrantDep,
    job_id: FromPath[str],
    after: After = 0,
) -> ServerSentEvent:
    """Recorded events (epochs, log lines) carry their sequence number as the SSE
    id: a client resumes with ``?after=N`` or the standard ``Last-Event-ID``."""
    await job_records.show(ctx, grant.workspace, job_id)  # 404 before the stream starts
    last = request.headers.get("last-event-id", "")
    if last.isascii() and last.isdigit() and len(last) < 12:
        after = max(after, int(last))

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        async for message in poll_watch(ctx, grant.workspace, job_id, after=max(0, after)):
            kind = message["event"]
            if kind == "ping":
                yield ServerSentEventMessage(comment="ping")
            else:
                body = {k: v for k, v in message.items() if k != "event"}
                seq = message.get("seq")
                yield ServerSentEventMessage(
                    data=json.dumps(body), event=kind, id=str(seq) if seq else None
                )

    return ServerSentEvent(events())


router = Router(
    path="/v1",
    route_handlers=[run_gc, run_verify, erase, list_jobs, show_job, job_events, *QUEUE],
    tags=["jobs"],
)
