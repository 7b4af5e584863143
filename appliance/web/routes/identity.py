"""Setup, sessions, tokens, users: who you are and how you prove it."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, post
from litestar.params import FromPath, JSONBody

from appliance.services import accounts, audit, workspaces
from appliance.web.access import CtxDep, PrincipalDep, admin, public, source_of, user
from appliance.web.dto import LoginIn, SetupIn, TokenIn, UserIn


@post("/setup", opt=public(), summary="Create the first admin with the one-time setup token")
async def setup(
    request: Request[Any, Any, Any], ctx: CtxDep, data: JSONBody[SetupIn]
) -> dict[str, Any]:
    who, token = await accounts.setup(
        ctx, data.setup_token, data.username, data.password, source_of(request)
    )
    return {"user": who.as_dict(), "token": token}


@post("/sessions", opt=public(), summary="Log in: a short-lived session token")
async def login(
    request: Request[Any, Any, Any], ctx: CtxDep, data: JSONBody[LoginIn]
) -> dict[str, Any]:
    record, token, who = await accounts.login(
        ctx, data.username, data.password, data.ttl_seconds, source_of(request)
    )
    return {"token": token, "expires_at": record.expires_at, "user": who.as_dict()}


@delete("/sessions/current", opt=user(), summary="Log out: revoke the token in use")
async def logout(ctx: CtxDep, principal: PrincipalDep) -> None:
    async with ctx.catalog.accounts(write=True) as acc:
        await acc.tokens.revoke(principal.token_id)
        await acc.audit.record(None, principal.actor, "session.revoke", principal.token_id)


@get("/me", opt=user(), summary="Who the token belongs to, and their workspaces")
async def me(ctx: CtxDep, principal: PrincipalDep) -> dict[str, Any]:
    mine = await workspaces.mine(ctx, principal)
    return {
        "user": principal.user.as_dict(),
        "workspaces": [{"id": w.id, "role": role} for w, role in mine],
    }


@get("/tokens", opt=user(), summary="Your personal API tokens (never their secrets)")
async def list_tokens(ctx: CtxDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    return [t.as_dict() for t in await accounts.list_tokens(ctx, principal)]


@post("/tokens", opt=user(), summary="Create a personal API token (shown once)")
async def create_token(
    ctx: CtxDep, principal: PrincipalDep, data: JSONBody[TokenIn]
) -> dict[str, Any]:
    record, token = await accounts.create_token(ctx, principal, data.name, data.expires_in_days)
    return {**record.as_dict(), "token": token}


@delete("/tokens/{token_id:str}", opt=user(), summary="Revoke one of your tokens")
async def revoke_token(ctx: CtxDep, principal: PrincipalDep, token_id: FromPath[str]) -> None:
    await accounts.revoke_token(ctx, principal, token_id)


@get("/users", opt=admin(), summary="Every user (box admins only)")
async def list_users(ctx: CtxDep) -> list[dict[str, Any]]:
    return [u.as_dict() for u in await accounts.list_users(ctx)]


@post("/users", opt=admin(), summary="Create a user (box admins only)")
async def create_user(
    ctx: CtxDep, principal: PrincipalDep, data: JSONBody[UserIn]
) -> dict[str, Any]:
    created = await accounts.create_user(
        ctx, principal, data.username, data.password, data.is_admin
    )
    return created.as_dict()


@get(
    "/audit/verify",
    opt=admin(),
    summary="Check the audit log's hash chain end to end, against its signed checkpoints",
)
async def verify_audit(ctx: CtxDep) -> dict[str, Any]:
    return await audit.verify(ctx)


router = Router(
    path="/v1",
    route_handlers=[
        setup,
        login,
        logout,
        me,
        list_tokens,
        create_token,
        revoke_token,
        list_users,
        create_user,
        verify_audit,
    ],
    tags=["identity"],
)
