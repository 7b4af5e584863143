"""Webhook registrations and their delivery log."""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from appliance.domain.access import Permission as P
from appliance.services import webhooks
from appliance.web.access import CtxDep, GrantDep, needs
from appliance.web.dto import WebhookIn
from appliance.web.pagination import page
from appliance.web.queries import Limit

W = "/workspaces/{ws:str}/webhooks"


@get(W, opt=needs(P.WEBHOOK_MANAGE), summary="Webhooks, oldest first (never their secrets)")
async def list_webhooks(
    ctx: CtxDep, grant: GrantDep, limit: Limit = 100, cursor: FromQuery[str | None] = None
) -> dict[str, Any]:
    hooks = await webhooks.list_hooks(ctx, grant.workspace)
    return page(hooks, lambda h: [h["created_at"], h["id"]], cursor, limit)


@post(W, opt=needs(P.WEBHOOK_MANAGE), summary="Register a webhook; its secret is shown once")
async def create_webhook(ctx: CtxDep, grant: GrantDep, data: JSONBody[WebhookIn]) -> Response[Any]:
    # Not through `idempotent`: that stores the answer, and this answer holds the
    # signing secret, which must live nowhere but the webhooks table.
    hook = await webhooks.create(ctx, grant.workspace, grant.actor, data.url, data.events)
    return Response(hook, status_code=201)


@delete(W + "/{hook_id:str}", opt=needs(P.WEBHOOK_MANAGE), summary="Delete a webhook")
async def delete_webhook(ctx: CtxDep, grant: GrantDep, hook_id: FromPath[str]) -> None:
    await webhooks.delete(ctx, grant.workspace, hook_id, grant.actor)


@get(
    W + "/{hook_id:str}/deliveries",
    opt=needs(P.WEBHOOK_MANAGE),
    summary="The webhook's delivery attempts, newest first",
)
async def list_deliveries(
    ctx: CtxDep,
    grant: GrantDep,
    hook_id: FromPath[str],
    limit: Limit = 100,
    cursor: FromQuery[str | None] = None,
) -> dict[str, Any]:
    rows = await webhooks.deliveries(ctx, grant.workspace, hook_id)
    return page(rows, lambda d: d["id"], cursor, limit, descending=True)


router = Router(
    path="/v1",
    route_handlers=[list_webhooks, create_webhook, delete_webhook, list_deliveries],
    tags=["webhooks"],
)
