"""The model registry: models, versions, lineage, promotion."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Response, Router, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from appliance.domain.access import Permission as P
from appliance.services import evaluations, registry
from appliance.web.access import CtxDep, GrantDep, needs
from appliance.web.dto import ModelIn, PromoteIn

M = "/workspaces/{ws:str}/models"
MV = M + "/{name:str}/versions/{ref:str}"


@get(M, opt=needs(P.MODEL_READ), summary="Models, with their latest version and tags")
async def list_models(ctx: CtxDep, grant: GrantDep) -> dict[str, Any]:
    return {"items": await registry.list_models(ctx, grant.workspace)}


@post(M, opt=needs(P.JOB_SUBMIT), summary="Register uploaded weights as a model version")
async def register_upload(
    ctx: CtxDep, grant: GrantDep, data: JSONBody[ModelIn]
) -> Mapping[str, Any]:
    return await registry.register_upload(
        ctx,
        grant.workspace,
        name=data.name,
        task=data.task,
        weights_sha256=data.weights_sha256,
        actor=grant.actor,
        fmt=data.format,
    )


@get(M + "/{name:str}", opt=needs(P.MODEL_READ), summary="A model and its versions")
async def show_model(ctx: CtxDep, grant: GrantDep, name: FromPath[str]) -> dict[str, Any]:
    return await registry.show(ctx, grant.workspace, name)


@get(MV, opt=needs(P.MODEL_READ), summary="One model version (number, vN, tag or latest)")
async def show_version(
    ctx: CtxDep, grant: GrantDep, name: FromPath[str], ref: FromPath[str]
) -> Mapping[str, Any]:
    return await registry.version(ctx, grant.workspace, name, ref)


@get(
    MV + "/lineage",
    opt=needs(P.MODEL_READ),
    summary="What exact data, code and run made this model version",
)
async def lineage(
    ctx: CtxDep, grant: GrantDep, name: FromPath[str], ref: FromPath[str]
) -> dict[str, Any]:
    return await registry.lineage(ctx, grant.workspace, name, ref)


@put(
    M + "/{name:str}/tags/{tag:str}",
    opt=needs(P.MODEL_PROMOTE),
    summary="Point a tag (production, candidate, ...) at a model version; audited",
)
async def promote(
    ctx: CtxDep, grant: GrantDep, name: FromPath[str], tag: FromPath[str], data: JSONBody[PromoteIn]
) -> Mapping[str, Any]:
    return await registry.promote(
        ctx, grant.workspace, name, data.version, tag, grant.actor, data.accept_unmeasured
    )


@get(MV + "/evaluations", opt=needs(P.MODEL_READ), summary="A model version's evaluations")
async def version_evaluations(
    ctx: CtxDep, grant: GrantDep, name: FromPath[str], ref: FromPath[str]
) -> dict[str, Any]:
    return {"items": await evaluations.of_version(ctx, grant.workspace, name, ref)}


E = "/workspaces/{ws:str}/evaluations/{evaluation:str}"


@get(
    E,
    opt=needs(P.MODEL_READ),
    summary="One evaluation: per-class AP and PR curves, confusion matrix, per-image errors",
)
async def show_evaluation(
    ctx: CtxDep, grant: GrantDep, evaluation: FromPath[str]
) -> dict[str, Any]:
    return await evaluations.report(ctx, grant.workspace, evaluation)


@get(
    E + "/pictures/{picture:str}",
    opt=needs(P.MODEL_READ),
    media_type="image/svg+xml",
    summary="An evaluation's chart: pr_curves.svg, confusion.svg, confusion_normalized.svg",
)
async def evaluation_picture(
    ctx: CtxDep, grant: GrantDep, evaluation: FromPath[str], picture: FromPath[str]
) -> Response[bytes]:
    data = await evaluations.picture(ctx, grant.workspace, evaluation, picture)
    return Response(data, media_type="image/svg+xml")


@get(
    "/workspaces/{ws:str}/model-comparison",
    opt=needs(P.MODEL_READ),
    summary="Model versions side by side on the same data: per-class AP50-95 and who wins",
)
async def compare_models(
    ctx: CtxDep,
    grant: GrantDep,
    models: Annotated[list[str], Parameter(query="model", min_items=2)],
    dataset: FromQuery[str | None] = None,
    version: FromQuery[str | None] = None,
    split: FromQuery[str | None] = None,
) -> dict[str, Any]:
    return await evaluations.compare(ctx, grant.workspace, models, dataset, version, split)


router = Router(
    path="/v1",
    route_handlers=[
        list_models,
        register_upload,
        show_model,
        show_version,
        lineage,
        promote,
        version_evaluations,
        show_evaluation,
        evaluation_picture,
        compare_models,
    ],
    tags=["models"],
)
