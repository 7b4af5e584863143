"""The security chokepoint: one guard on the whole app authenticates every call and
authorizes it against the permission its handler declares.

Each handler declares exactly one policy in ``opt``:
``public=True``, ``auth="user"`` (any valid token), ``auth="admin"`` (box admin), or
``permission=Permission.X`` (a role in the workspace named by the ``{ws}`` path
parameter), or ``somewhere=Permission.X`` (box-wide: a box admin, or a role that
grants X in at least one workspace). ``check_policies`` refuses to build an app
with a handler that declares none, so a new endpoint cannot be left open by forgetting.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler

from appliance.domain.access import Permission
from appliance.domain.identity import Principal
from appliance.errors import Forbidden, Unauthenticated
from appliance.services import accounts, workspaces
from appliance.services.context import ServiceContext
from appliance.services.workspaces import Grant

#: Where litestar mounts its own schema routes (the public copy is /v1/openapi.json).
OPENAPI_PATH = "/v1/schema"


def public() -> dict[str, Any]:
    return {"public": True}


def user() -> dict[str, Any]:
    return {"auth": "user"}


def admin() -> dict[str, Any]:
    return {"auth": "admin"}


def needs(permission: Permission) -> dict[str, Any]:
    return {"permission": permission}


def somewhere(permission: Permission) -> dict[str, Any]:
    """A box-wide read for box admins and whoever holds ``permission`` in a workspace."""
    return {"somewhere": permission}


def source_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The caller's address: the TCP peer (X-Forwarded-For only from a proxy on the
    box itself: uvicorn trusts it from 127.0.0.1 alone)."""
    client = connection.scope.get("client")
    return str(client[0]) if client else "unknown"


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


async def chokepoint(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    opt = handler.opt
    if opt.get("public"):
        return
    ctx: ServiceContext = connection.app.state.ctx
    try:
        who = await accounts.authenticate(ctx, _bearer(connection.headers.get("authorization")))
    except Unauthenticated as exc:
        # Counted per source and window, not written per request: anyone can send
        # these, as fast and with as long a path as they like.
        request = f"{connection.scope.get('method', 'GET')} {connection.scope.get('path', '')}"
        ctx.shield.refused(ctx.settings, source_of(connection), exc.message, request)
        raise
    connection.state.principal = who
    permission = opt.get("permission")
    if permission is not None:
        ws = connection.path_params["ws"]
        connection.state.grant = await workspaces.authorize(ctx, who, ws, permission)
    elif (anywhere := opt.get("somewhere")) is not None:
        await workspaces.authorize_somewhere(ctx, who, anywhere, connection.url.path)
    elif opt.get("auth") == "admin" and not who.user.is_admin:
        async with ctx.catalog.accounts(write=True) as acc:
            await acc.audit.record(None, who.actor, "admin", connection.url.path, "denied")
        raise Forbidden("box admin", None)


def check_policies(app: Litestar) -> None:
    for route in app.routes:
        if route.path.startswith(OPENAPI_PATH):
            continue  # litestar's schema routes: no policy, so the guard authenticates them
        for handler in getattr(route, "route_handlers", []):
            if handler.handler_name == "options_handler":
                continue  # litestar's own; it falls to the guard's default: authenticate
            opt = handler.opt
            declared = [k for k in ("public", "auth", "permission", "somewhere") if opt.get(k)]
            if len(declared) != 1:
                raise RuntimeError(
                    f"{route.path}: handler {handler.handler_name} must declare exactly one "
                    f"access policy (public, auth, permission or somewhere), not {declared}"
                )
            if "permission" in declared and "{ws" not in route.path:
                raise RuntimeError(f"{route.path}: a permission needs a {{ws}} path parameter")


def _ctx(request: Request[Any, Any, Any]) -> ServiceContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def _grant(request: Request[Any, Any, Any]) -> Grant:
    return request.state.grant  # type: ignore[no-any-return]


def _principal(request: Request[Any, Any, Any]) -> Principal:
    return request.state.principal  # type: ignore[no-any-return]


DEPENDENCIES = {
    "ctx": Provide(_ctx, sync_to_thread=False),
    "grant": Provide(_grant, sync_to_thread=False),
    "principal": Provide(_principal, sync_to_thread=False),
}


#: Handler parameter types for what the chokepoint resolved (explicit, not inferred).
CtxDep = NamedDependency[ServiceContext]
GrantDep = NamedDependency[Grant]
PrincipalDep = NamedDependency[Principal]
