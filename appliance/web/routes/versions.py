"""Versions: commit, read, compare, tag, and download (archive or one file)."""

from __future__ import annotations

import mimetypes
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from appliance.domain.access import Permission as P
from appliance.services import archive, datasets, erasure, versions
from appliance.services import labels as label_service
from appliance.web.access import CtxDep, GrantDep, needs
from appliance.web.dto import CommitIn, TagIn
from appliance.web.idempotency import idempotent
from appliance.web.pagination import page
from appliance.web.queries import Limit
from appliance.web.streams import started

DS = "/workspaces/{ws:str}/datasets/{ds:str}"
V = DS + "/versions/{ref:str}"


@get(DS + "/versions", opt=needs(P.DATASET_READ), summary="Versions, newest first")
async def list_versions(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    limit: Limit = 100,
    cursor: FromQuery[str | None] = None,
) -> dict[str, Any]:
    async with ctx.catalog.reading(grant.workspace) as uow:
        dataset = await uow.datasets.get(ds)
        found = await uow.versions.list(dataset.id)
    rows = sorted(found, key=lambda v: -v.number)
    return page(
        rows, lambda v: v.number, cursor, limit, descending=True, encode=lambda v: v.as_dict()
    )


@post(DS + "/versions", opt=needs(P.DATASET_COMMIT), summary="Commit the working area")
async def commit(
    request: Request[Any, Any, Any],
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    data: JSONBody[CommitIn],
) -> Response[Any]:
    async def create() -> dict[str, Any]:
        split = data.split.config() if data.split else None
        v = await versions.commit(
            ctx,
            grant.workspace,
            ds,
            data.message,
            grant.actor,
            split,
            data.allow_empty,
            only_approved=data.only_approved,
        )
        return v.as_dict()

    return await idempotent(request, ctx, grant, create)


@get(
    V,
    opt=needs(P.DATASET_READ),
    summary="One version (number, vN, tag or latest), with what it was derived from",
)
async def show_version(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], ref: FromPath[str]
) -> dict[str, Any]:
    return await versions.detail(ctx, grant.workspace, ds, ref)


@delete(V, opt=needs(P.DATASET_DELETE), summary="Delete a version (refused while held)")
async def delete_version(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], ref: FromPath[str]
) -> None:
    await datasets.remove_version(ctx, grant.workspace, ds, ref, grant.actor)


@get(V + "/manifest", opt=needs(P.DATASET_READ), summary="A version's files, by name")
async def version_manifest(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    ref: FromPath[str],
    limit: Limit = 1000,
    cursor: FromQuery[str | None] = None,
) -> dict[str, Any]:
    version, rows = await versions.manifest(ctx, grant.workspace, ds, ref)
    answer = page(rows, lambda r: r.filename, cursor, limit, encode=lambda r: r.as_dict())
    if version is not None:
        answer["version"] = version.as_dict()
    if cursor is None:  # once per listing: the rows whose content was erased, and why
        answer["erased"] = await erasure.erased_rows(ctx, grant.workspace, rows)
    return answer


@get(
    V + "/archive",
    opt=needs(P.DATASET_READ),
    media_type="application/x-tar",
    summary="A version as a streamed tar",
)
async def version_archive(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    ref: FromPath[str],
    split: FromQuery[str | None] = None,
    layout: FromQuery[str] = "tree",
    labels: FromQuery[bool] = False,
) -> Stream:
    ws = grant.workspace
    plan = await archive.plan(ctx, ws, ds, ref, split, layout)
    docs = await archive.check_labels(ctx, ws, plan) if labels else 0
    tail = (lambda: archive.label_members(ctx, ws, plan)) if labels else None
    return Stream(
        await started(archive.tar_chunks(ctx, ws, plan, tail=tail)),
        media_type="application/x-tar",
        headers={
            "Content-Disposition": f'attachment; filename="{ds}-v{plan.version.number}.tar"',
            "X-Ahoy-Manifest-Hash": plan.version.manifest_hash,
            "X-Ahoy-Files": str(len(plan.rows)),
            "X-Ahoy-Bytes": str(plan.bytes),
            **({"X-Ahoy-Labels": str(docs)} if labels else {}),
        },
    )


@get(
    V + "/files/{path:path}",
    opt=needs(P.DATASET_READ),
    media_type="application/octet-stream",
    summary="One file of a version (served with the media type its name implies)",
)
async def version_file(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], ref: FromPath[str], path: FromPath[str]
) -> Stream:
    row, size = await archive.one_file(ctx, grant.workspace, ds, ref, path.lstrip("/"))
    media = mimetypes.guess_type(row.filename)[0] or "application/octet-stream"
    chunks = await started(ctx.blobs.stream(grant.workspace, row.sha256))
    return Stream(
        chunks,
        media_type=media,
        headers={
            "Content-Length": str(size),
            "ETag": f'"{row.sha256}"',
            "X-Ahoy-Sha256": row.sha256,
        },
    )


@get(DS + "/log", opt=needs(P.DATASET_READ), summary="The parent chain from a version")
async def version_log(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], ref: FromQuery[str] = "latest"
) -> list[dict[str, Any]]:
    return [v.as_dict() for v in await versions.log(ctx, grant.workspace, ds, ref)]


@get(DS + "/diff", opt=needs(P.DATASET_READ), summary="Compare two versions (or working)")
async def version_diff(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    from_: Annotated[str, QueryParameter(name="from")],
    to: FromQuery[str] = "working",
    labels: FromQuery[bool] = False,
) -> dict[str, Any]:
    d = await versions.diff(ctx, grant.workspace, ds, from_, to)
    answer = d.as_dict()
    if labels:  # object by object, for each relabelled file
        answer["labels"] = await label_service.label_changes(ctx, grant.workspace, d)
    return answer


@get(DS + "/tags", opt=needs(P.DATASET_READ), summary="Tags and the versions they name")
async def list_tags(ctx: CtxDep, grant: GrantDep, ds: FromPath[str]) -> list[dict[str, Any]]:
    async with ctx.catalog.reading(grant.workspace) as uow:
        dataset = await uow.datasets.get(ds)
        found = await uow.versions.list(dataset.id)
    return sorted(
        ({"name": t, "version": v.number} for v in found for t in v.tags),
        key=lambda t: str(t["name"]),
    )


@put(DS + "/tags/{name:str}", opt=needs(P.DATASET_COMMIT), summary="Point a tag at a version")
async def set_tag(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], name: FromPath[str], data: JSONBody[TagIn]
) -> dict[str, Any]:
    v = await datasets.tag(ctx, grant.workspace, ds, name, data.version, grant.actor)
    assert v is not None
    return v.as_dict()


@delete(DS + "/tags/{name:str}", opt=needs(P.DATASET_COMMIT), summary="Delete a tag")
async def delete_tag(ctx: CtxDep, grant: GrantDep, ds: FromPath[str], name: FromPath[str]) -> None:
    await datasets.tag(ctx, grant.workspace, ds, name, None, grant.actor)


router = Router(
    path="/v1",
    route_handlers=[
        list_versions,
        commit,
        show_version,
        delete_version,
        version_manifest,
        version_archive,
        version_file,
        version_log,
        version_diff,
        list_tags,
        set_tag,
        delete_tag,
    ],
    tags=["versions"],
)
