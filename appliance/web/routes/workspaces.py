"""Workspaces, members, quota and the audit trail of one workspace."""

from __future__ import annotations

from typing import Any

from litestar import Router, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from appliance.domain.access import Permission as P
from appliance.services import workspaces
from appliance.web.access import CtxDep, GrantDep, PrincipalDep, admin, needs, user
from appliance.web.dto import MemberIn, QuotaIn, WorkspaceIn
from appliance.web.pagination import check_limit, encode_cursor, int_cursor
from appliance.web.queries import Limit


@get("/workspaces", opt=user(), summary="The workspaces you belong to")
async def list_workspaces(ctx: CtxDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    return [{**w.as_dict(), "role": role} for w, role in await workspaces.mine(ctx, principal)]


@post("/workspaces", opt=admin(), summary="Create a workspace; you become its owner")
async def create_workspace(
    ctx: CtxDep, principal: PrincipalDep, data: JSONBody[WorkspaceIn]
) -> dict[str, Any]:
    created = await workspaces.create(ctx, principal, data.id, data.description)
    return {**created.as_dict(), "role": "owner"}


@get("/workspaces/{ws:str}", opt=needs(P.WORKSPACE_READ), summary="One workspace, with usage")
async def show_workspace(ctx: CtxDep, grant: GrantDep) -> dict[str, Any]:
    return await workspaces.show(ctx, grant)


@put("/workspaces/{ws:str}/quota", opt=admin(), summary="Set a workspace's storage quota")
async def set_quota(
    ctx: CtxDep, principal: PrincipalDep, ws: FromPath[str], data: JSONBody[QuotaIn]
) -> dict[str, Any]:
    await workspaces.set_quota(ctx, principal, ws, data.quota_bytes)
    return {"id": ws, "quota_bytes": data.quota_bytes}


@get("/workspaces/{ws:str}/members", opt=needs(P.MEMBER_READ), summary="Members and roles")
async def list_members(ctx: CtxDep, grant: GrantDep) -> list[dict[str, Any]]:
    return await workspaces.members(ctx, grant)


@put(
    "/workspaces/{ws:str}/members/{username:str}",
    opt=needs(P.MEMBER_MANAGE),
    summary="Give a user a role in the workspace",
)
async def set_member(
    ctx: CtxDep, grant: GrantDep, username: FromPath[str], data: JSONBody[MemberIn]
) -> dict[str, Any]:
    return await workspaces.set_member(ctx, grant, username, data.role)


@delete(
    "/workspaces/{ws:str}/members/{username:str}",
    opt=needs(P.MEMBER_MANAGE),
    summary="Remove a member",
)
async def remove_member(ctx: CtxDep, grant: GrantDep, username: FromPath[str]) -> None:
    await workspaces.set_member(ctx, grant, username, None)


@get("/workspaces/{ws:str}/audit", opt=needs(P.AUDIT_READ), summary="Audit entries, newest first")
async def audit_log(
    ctx: CtxDep, grant: GrantDep, limit: Limit = 100, cursor: FromQuery[str | None] = None
) -> dict[str, Any]:
    check_limit(limit)
    before = int_cursor(cursor)
    async with ctx.catalog.reading(grant.workspace) as uow:
        entries = await uow.audit.entries(limit + 1, before)
    more = len(entries) > limit
    entries = entries[:limit]
    return {
        "items": entries,
        "next_cursor": encode_cursor(entries[-1]["id"]) if more else None,
    }


router = Router(
    path="/v1",
    route_handlers=[
        list_workspaces,
        create_workspace,
        show_workspace,
        set_quota,
        list_members,
        set_member,
        remove_member,
        audit_log,
    ],
    tags=["workspaces"],
)
