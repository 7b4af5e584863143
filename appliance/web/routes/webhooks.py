"""Webhook registrations and their delivery log."""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, delete, get, post

from appliance.domain.access import Permission as P
from appliance.services import webhooks
from appliance.services.context import ServiceContext
from appliance.services.workspaces import Grant
from appliance.web.access import needs
from appliance.web.dto import WebhookIn
from appliance.web.pagination import page

W = "/workspaces/{ws:str}/webhooks"


@get(W, opt=needs(P.WEBHOOK_MANAGE), summary="Webhooks, oldest first (never their secrets)")
async def list_webhooks(
    ctx: ServiceContext, grant: Grant, limit: int = 100, cursor: str | None = None
) -> dict[str, Any]:
    hooks = await webhooks.list_hooks(ctx, grant.workspace)
    return page(hooks, lambda h: [h["created_at"], h["id"]], cursor, limit)


@post(W, opt=needs(P.WEBHOOK_MANAGE), summary="Register a webhook; its secret is shown once")
async def create_webhook(ctx: ServiceContext, grant: Grant, data: WebhookIn) -> Response[Any]:
    # Not through `idempotent`: that stores the answer, and this answer holds the
    # signing secret, which must live nowhere but the webhooks table.
    hook = await webhooks.create(ctx, grant.workspace, grant.actor, data.url, data.events)
    return Response(hook, status_code=201)


@delete(W + "/{hook_id:str}", opt=needs(P.WEBHOOK_MANAGE), summary="Delete a webhook")
async def delete_webhook(ctx: ServiceContext, grant: Grant, hook_id: str) -> None:
    await webhooks.delete(ctx, grant.workspace, hook_id, grant.actor)


@get(
    W + "/{hook_id:str}/deliveries",
    opt=needs(P.WEBHOOK_MANAGE),
    summary="The webhook's delivery attempts, newest first",
)
async def list_deliveries(
    ctx: ServiceContext,
    grant: Grant,
    hook_id: str,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    rows = await webhooks.deliveries(ctx, grant.workspace, hook_id)
    return page(rows, lambda d: d["id"], cursor, limit, descending=True)


router = Router(
    path="/v1",
    route_handlers=[list_webhooks, create_webhook, delete_webhook, list_deliveries],
    tags=["webhooks"],
)
