"""Annotation work: the queue, one item, saving labels, submitting, reviewing,
per-person figures and model pre-labelling (docs/annotation.md).

A dataset file path may hold slashes, so it is always the last part of a URL
(litestar matches nothing after a ``{path:path}`` parameter): the verb comes
before it, ``/labels/{path}``, ``/submit/{path}``, ``/review/{path}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, Router, get, post, put
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from appliance.domain.access import Permission as P
from appliance.domain.canonical import is_sha256_hex
from appliance.errors import InvalidInput
from appliance.services import annotate
from appliance.services.label_edit import ANY
from appliance.services.prelabel import prelabel as run_prelabel
from appliance.web.access import CtxDep, GrantDep, needs
from appliance.web.dto import PrelabelIn, ReviewIn
from appliance.web.pagination import page
from appliance.web.queries import Limit, Since

DS = "/workspaces/{ws:str}/datasets/{ds:str}"
NONE = "none"  # the ETag / If-Match of a file without labels
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description="The label_sha256 you loaded (the item's ETag), or 'none': "
        "a save over other labels is refused with 409",
    ),
]


def etag(label_sha256: str | None) -> str:
    return f'"{label_sha256 or NONE}"'


def expected(header: str | None) -> str | None:
    """``If-Match`` → what save_labels expects: ANY, None (no labels) or a digest."""
    if header is None or header.strip() == "*":
        return ANY
    value = header.strip().removeprefix("W/").strip('"')
    if value == NONE:
        return None
    if not is_sha256_hex(value):
        raise InvalidInput(
            f"If-Match {header!r} is not a label_sha256",
            hint="send back the ETag the item was loaded with, or 'none'",
        )
    return value


def _annotator(value: str | None, actor: str) -> str | None:
    if value is None:
        return None
    if value == "me":
        return actor
    return value if ":" in value else f"user:{value}"


@get(DS + "/items", opt=needs(P.DATASET_READ), summary="The annotation queue (images)")
async def list_items(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    state_: Annotated[str | None, QueryParameter(name="state")] = None,
    annotator: FromQuery[str | None] = None,
    prefix: FromQuery[str | None] = None,
    limit: Limit = 100,
    cursor: FromQuery[str | None] = None,
) -> dict[str, Any]:
    found = await annotate.queue(
        ctx,
        grant.workspace,
        ds,
        state=state_,
        annotator=_annotator(annotator, grant.actor),
        prefix=prefix,
    )
    return page(found, lambda i: i.path, cursor, limit, encode=lambda i: i.as_dict())


@get(DS + "/items/{path:path}", opt=needs(P.DATASET_READ), summary="One image and its labels")
async def show_item(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], path: FromPath[str]
) -> Response[dict[str, Any]]:
    view = await annotate.item(ctx, grant.workspace, ds, path.lstrip("/"))
    return Response(view.as_dict(), headers={"ETag": etag(view.item.label_sha256)})


@put(DS + "/labels/{path:path}", opt=needs(P.LABEL_WRITE), summary="Save an image's labels")
async def save_labels(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    path: FromPath[str],
    data: JSONBody[dict[str, Any]],
    if_match: IfMatch = None,
) -> Response[dict[str, Any]]:
    saved = await annotate.save(
        ctx,
        grant.workspace,
        ds,
        path.lstrip("/"),
        data,
        grant.actor,
        expect=expected(if_match),
    )
    return Response(saved, headers={"ETag": etag(saved["label_sha256"])})


@post(
    DS + "/submit/{path:path}",
    opt=needs(P.LABEL_WRITE),
    status_code=200,
    summary="Submit an image's labels for review",
)
async def submit(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], path: FromPath[str]
) -> dict[str, Any]:
    done = await annotate.submit(ctx, grant.workspace, ds, path.lstrip("/"), grant.actor)
    return done.as_dict()


@post(
    DS + "/review/{path:path}",
    opt=needs(P.LABEL_REVIEW),
    status_code=200,
    summary="Approve or reject an image's labels as they are now",
)
async def review(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    path: FromPath[str],
    data: JSONBody[ReviewIn],
    if_match: IfMatch = None,
) -> dict[str, Any]:
    done = await annotate.review(
        ctx,
        grant.workspace,
        ds,
        path.lstrip("/"),
        data.decision,
        data.comment,
        grant.actor,
        expect=expected(if_match),
    )
    return done.as_dict()


@get(DS + "/review/stats", opt=needs(P.DATASET_READ), summary="Annotator and reviewer figures")
async def review_stats(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], since: Since = None
) -> dict[str, Any]:
    return (await annotate.stats(ctx, grant.workspace, ds, since)).as_dict()


@post(
    DS + "/prelabel/{path:path}",
    opt=needs(P.LABEL_WRITE),
    status_code=200,
    summary="Add a model's proposals to an image's labels",
)
async def prelabel(
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    path: FromPath[str],
    data: JSONBody[PrelabelIn],
) -> dict[str, Any]:
    return await run_prelabel(
        ctx,
        grant.workspace,
        ds,
        path.lstrip("/"),
        data.model,
        grant.actor,
        min_score=data.min_score,
    )


router = Router(
    path="/v1",
    route_handlers=[list_items, show_item, save_labels, submit, review, review_stats, prelabel],
    tags=["annotation"],
)
