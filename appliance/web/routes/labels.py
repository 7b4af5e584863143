"""Label schemas, label statistics, and versions exported as YOLO datasets."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Router, get, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from appliance.domain.access import Permission as P
from appliance.domain.labels.schema import schema_to_dict
from appliance.errors import InvalidInput
from appliance.services import label_schema, labels
from appliance.web.access import CtxDep, GrantDep, needs
from appliance.web.dto import SchemaIn
from appliance.web.streams import started

DS = "/workspaces/{ws:str}/datasets/{ds:str}"
V = DS + "/versions/{ref:str}"
#: A response header saying what a client should tell the user about the export.
WARNING = "X-Ahoy-Warning"


@get(DS + "/schema", opt=needs(P.DATASET_READ), summary="The dataset's label schema")
async def show_schema(ctx: CtxDep, grant: GrantDep, ds: FromPath[str]) -> dict[str, Any]:
    schema = await labels.get_schema(ctx, grant.workspace, ds)
    return {"dataset": ds, **(schema_to_dict(schema) if schema else {"classes": []})}


@put(DS + "/schema", opt=needs(P.DATASET_CREATE), summary="Set the label schema (or a preset)")
async def set_schema(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], data: JSONBody[SchemaIn]
) -> dict[str, Any]:
    body: dict[str, object] | None = None
    if data.classes is not None:
        body = {"classes": data.classes, "skeletons": data.skeletons or []}
    r = await label_schema.set_schema(
        ctx,
        grant.workspace,
        ds,
        grant.actor,
        preset=data.preset,
        schema=body,
        coco_categories=data.coco_categories,
        coco_top=data.coco_top,
        mapping=data.mapping,
    )
    return {"dataset": ds, **schema_to_dict(r.schema), "relabelled": r.relabelled()}


@get(V + "/stats", opt=needs(P.DATASET_READ), summary="Label statistics and quality warnings")
async def version_stats(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], ref: FromPath[str]
) -> dict[str, Any]:
    return await labels.stats(ctx, grant.workspace, ds, ref)


@get(
    V + "/export",
    opt=needs(P.DATASET_READ),
    media_type="application/x-tar",
    summary="A version as a YOLO dataset (images, labels, data.yaml) in its frozen split",
)
async def export_version(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    ref: FromPath[str],
    format: FromQuery[str] = "yolo",
    task: FromQuery[str] = "detect",
    split: FromQuery[str | None] = None,
) -> Stream:
    if format not in ("yolo", "coco"):
        raise InvalidInput(f"export format {format!r} is not known", hint="use yolo or coco")
    export = await labels.plan_yolo(ctx, grant.workspace, ds, ref, task, split)
    number = export.archive.version.number
    headers = {"Content-Disposition": f'attachment; filename="{ds}-v{number}-{format}.tar"'}
    if format == "yolo" and split is None and (warning := export.warning(ds)):
        headers[WARNING] = warning  # the SDK and CLI show it; data.yaml says it too
    if format == "coco":
        extras = await labels.coco_extras(ctx, grant.workspace, ds)
        sizes = await asyncio.to_thread(labels.image_sizes, ctx, grant.workspace, export)
        coco = labels.coco_document(export, extras, sizes)  # refuses before a byte is sent
        chunks = labels.coco_chunks(ctx, grant.workspace, export, coco)
    else:
        chunks = labels.yolo_chunks(ctx, grant.workspace, export)
    return Stream(
        await started(chunks),
        media_type="application/x-tar",
        headers=headers,
    )


router = Router(
    path="/v1",
    route_handlers=[show_schema, set_schema, version_stats, export_version],
    tags=["labels"],
)
