"""Uploads: ask which blobs the appliance lacks, then send only those."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Router, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.response import Stream

from appliance.domain.access import Permission as P
from appliance.errors import InvalidInput, NotFound, UnsupportedMediaType
from appliance.services import uploads
from appliance.web.access import CtxDep, GrantDep, needs
from appliance.web.dto import DigestsIn
from appliance.web.openapi_doc import raw_body
from appliance.web.streams import RequestBody, started

B = "/workspaces/{ws:str}/blobs"
TAR_TYPES = ("application/x-tar", "application/tar")


def _declared_length(request: Request[Any, Any, Any]) -> int | None:
    raw = request.headers.get("content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        raise InvalidInput("Content-Length is not a number") from None


def _content_type(request: Request[Any, Any, Any], allowed: tuple[str, ...]) -> None:
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given not in allowed:
        raise UnsupportedMediaType(given, allowed)


@post(
    B + "/missing",
    opt=needs(P.DATASET_STAGE),
    status_code=200,
    summary="Which of these blobs the workspace lacks (dedup negotiation)",
)
async def missing(ctx: CtxDep, grant: GrantDep, data: JSONBody[DigestsIn]) -> dict[str, Any]:
    lacking = await asyncio.to_thread(ctx.blobs.missing, grant.workspace, set(data.sha256))
    return {"missing": sorted(lacking)}


@post(
    B,
    opt=needs(P.DATASET_STAGE),
    status_code=200,
    summary="Upload blobs as a tar stream whose members are named by their sha256",
    operation_class=raw_body("a tar whose members are named by their sha256", *TAR_TYPES),
)
async def upload_batch(
    request: Request[Any, Any, Any], ctx: CtxDep, grant: GrantDep
) -> dict[str, Any]:
    _content_type(request, TAR_TYPES)
    budget = await uploads.budget_for(ctx, grant.workspace, _declared_length(request))
    async with (
        ctx.shield.upload_slot(ctx.settings, grant.actor),
        RequestBody(request.stream(), budget) as body,
    ):
        report = await uploads.receive_tar(ctx, grant.workspace, body, budget)
    return report.as_dict()


@put(
    B + "/{sha256:str}",
    opt=needs(P.DATASET_STAGE),
    status_code=200,
    summary="Upload one blob; its hash is checked on arrival",
    operation_class=raw_body("the blob's bytes", "application/octet-stream"),
)
async def upload_one(
    request: Request[Any, Any, Any], ctx: CtxDep, grant: GrantDep, sha256: FromPath[str]
) -> dict[str, Any]:
    _content_type(request, ("application/octet-stream",))
    budget = await uploads.budget_for(ctx, grant.workspace, _declared_length(request))
    async with (
        ctx.shield.upload_slot(ctx.settings, grant.actor),
        RequestBody(request.stream(), budget) as body,
    ):
        report = await uploads.receive_one(ctx, grant.workspace, sha256, body, budget)
    return {"sha256": sha256, "size": report.bytes, "stored": bool(report.stored)}


@get(
    B + "/{sha256:str}",
    opt=needs(P.DATASET_READ),
    media_type="application/octet-stream",
    summary="Download one blob",
)
async def download(ctx: CtxDep, grant: GrantDep, sha256: FromPath[str]) -> Stream:
    async with ctx.catalog.reading(grant.workspace) as uow:
        sizes = await uow.files.sizes({sha256})
    if sha256 not in sizes:
        raise NotFound("blob", sha256)
    chunks = await started(ctx.blobs.stream(grant.workspace, sha256))
    return Stream(
        chunks,
        media_type="application/octet-stream",
        headers={"Content-Length": str(sizes[sha256]), "ETag": f'"{sha256}"'},
    )


router = Router(
    path="/v1", route_handlers=[missing, upload_batch, upload_one, download], tags=["blobs"]
)
