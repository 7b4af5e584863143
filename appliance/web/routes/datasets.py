"""Datasets and their working area."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from appliance.domain.access import Permission as P
from appliance.services import datasets, staging
from appliance.web.access import CtxDep, GrantDep, needs
from appliance.web.dto import DatasetIn, RemoveIn, StageIn
from appliance.web.idempotency import idempotent
from appliance.web.pagination import page
from appliance.web.queries import Limit

DS = "/workspaces/{ws:str}/datasets/{ds:str}"


@get("/workspaces/{ws:str}/datasets", opt=needs(P.DATASET_READ), summary="List datasets")
async def list_datasets(
    ctx: CtxDep, grant: GrantDep, limit: Limit = 100, cursor: FromQuery[str | None] = None
) -> dict[str, Any]:
    rows = sorted(await datasets.list_all(ctx, grant.workspace), key=lambda s: s.dataset.slug)
    return page(rows, lambda s: s.dataset.slug, cursor, limit, encode=lambda s: s.as_dict())


@post("/workspaces/{ws:str}/datasets", opt=needs(P.DATASET_CREATE), summary="Create a dataset")
async def create_dataset(
    request: Request[Any, Any, Any], ctx: CtxDep, grant: GrantDep, data: JSONBody[DatasetIn]
) -> Response[Any]:
    async def create() -> dict[str, Any]:
        split = data.split.config() if data.split else None
        await datasets.create(ctx, grant.workspace, data.name, grant.actor, data.description, split)
        return await _summary(ctx, grant, data.name)

    return await idempotent(request, ctx, grant, create)


async def _summary(ctx: CtxDep, grant: GrantDep, slug: str) -> dict[str, Any]:
    for s in await datasets.list_all(ctx, grant.workspace):
        if s.dataset.slug == slug:
            return s.as_dict()
    from appliance.errors import NotFound

    raise NotFound("dataset", slug)


@get(DS, opt=needs(P.DATASET_READ), summary="One dataset")
async def show_dataset(ctx: CtxDep, grant: GrantDep, ds: FromPath[str]) -> dict[str, Any]:
    return await _summary(ctx, grant, ds)


@delete(DS, opt=needs(P.DATASET_DELETE), summary="Delete a dataset (refused while held)")
async def delete_dataset(ctx: CtxDep, grant: GrantDep, ds: FromPath[str]) -> None:
    await datasets.remove_dataset(ctx, grant.workspace, ds, grant.actor)


@get(DS + "/working", opt=needs(P.DATASET_READ), summary="The working area against the head")
async def working_status(ctx: CtxDep, grant: GrantDep, ds: FromPath[str]) -> dict[str, Any]:
    st = await datasets.status(ctx, grant.workspace, ds)
    return {
        "dataset": ds,
        "head": st.head.number if st.head else None,
        "working_files": st.working_files,
        "changes": st.changes.as_dict(),
    }


@get(DS + "/working/files", opt=needs(P.DATASET_READ), summary="Files of the working area")
async def working_files(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    limit: Limit = 100,
    cursor: FromQuery[str | None] = None,
) -> dict[str, Any]:
    async with ctx.catalog.reading(grant.workspace) as uow:
        dataset = await uow.datasets.get(ds)
        files = sorted((await uow.files.working(dataset.id)).values(), key=lambda f: f.filename)
        sizes = await uow.files.sizes({f.sha256 for f in files})
    return page(
        files,
        lambda f: f.filename,
        cursor,
        limit,
        encode=lambda f: {
            "filename": f.filename,
            "sha256": f.sha256,
            "label_sha256": f.label_sha256,
            "role": f.role,
            "size": sizes.get(f.sha256, 0),
        },
    )


@post(
    DS + "/working/files",
    opt=needs(P.DATASET_STAGE),
    status_code=200,
    summary="Stage uploaded blobs under names",
)
async def stage_files(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], data: JSONBody[StageIn]
) -> dict[str, Any]:
    result = await staging.stage_uploaded(
        ctx,
        grant.workspace,
        ds,
        (staging.Entry(f.name, f.sha256, f.size, f.label_sha256, f.label_size) for f in data.files),
        grant.actor,
        data.mirror_prefix,
    )
    return result.as_dict()


@post(
    DS + "/working/remove",
    opt=needs(P.DATASET_STAGE),
    status_code=200,
    summary="Drop files or folders from the working area",
)
async def remove_files(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], data: JSONBody[RemoveIn]
) -> dict[str, Any]:
    gone = await datasets.remove_files(ctx, grant.workspace, ds, list(data.paths), grant.actor)
    return {"removed": gone}


router = Router(
    path="/v1",
    route_handlers=[
        list_datasets,
        create_dataset,
        show_dataset,
        delete_dataset,
        working_status,
        working_files,
        stage_files,
        remove_files,
    ],
    tags=["datasets"],
)
