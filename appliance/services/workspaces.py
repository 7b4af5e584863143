"""Workspaces, their members, and the one authorization check every call passes."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.domain.access import ROLES, Permission, allows, allows_somewhere, can_assign
from appliance.domain.identity import Principal, Workspace
from appliance.domain.names import check_name
from appliance.errors import Conflict, Forbidden, InvalidInput, NotFound
from appliance.services.context import ServiceContext

WS_HINT = "use 1-64 letters, digits, '-' or '_'"


@dataclass(frozen=True)
class Grant:
    """The outcome of authorization: this principal acts in this workspace as this role."""

    principal: Principal
    workspace: str
    role: str

    @property
    def actor(self) -> str:
        return self.principal.actor


async def authorize(ctx: ServiceContext, who: Principal, ws: str, permission: Permission) -> Grant:
    """Non-members get NotFound (a workspace they cannot see does not exist for them);
    members without the permission get Forbidden. Both refusals are audited."""
    async with ctx.catalog.accounts() as acc:
        role = await acc.members.role(ws, who.user.id)
        if role is None and who.user.is_admin:
            role = "owner" if await acc.workspaces.exists(ws) else None
    if role is not None and allows(role, permission):
        return Grant(who, ws, role)
    async with ctx.catalog.accounts(write=True) as acc:
        await acc.audit.record(
            ws if role else None, who.actor, str(permission), f"workspace:{ws}", "denied"
        )
    if role is None:
        raise NotFound("workspace", ws, hint="`ahoy workspace list` shows yours")
    raise Forbidden(str(permission), role)


async def authorize_somewhere(
    ctx: ServiceContext, who: Principal, permission: Permission, target: str
) -> None:
    """A box-wide read for whoever holds ``permission`` in some workspace (box admins
    always); anyone else (no workspace, or only roles without it, such as
    ``viewer`` or ``device``) gets Forbidden, audited."""
    if who.user.is_admin:
        return
    async with ctx.catalog.accounts() as acc:
        roles = [role for _, role in await acc.members.of_user(who.user.id)]
    if allows_somewhere(roles, permission):
        return
    async with ctx.catalog.accounts(write=True) as acc:
        await acc.audit.record(None, who.actor, str(permission), target, "denied")
    raise Forbidden(f"{permission} (in some workspace)", None)


async def authorize_admin(ctx: ServiceContext, who: Principal, target: str) -> None:
    """Box admins pass; anyone else gets Forbidden, audited."""
    if who.user.is_admin:
        return
    async with ctx.catalog.accounts(write=True) as acc:
        await acc.audit.record(None, who.actor, "admin", target, "denied")
    raise Forbidden("box admin", None)


async def create(ctx: ServiceContext, who: Principal, ws_id: str, description: str) -> Workspace:
    check_name("workspace", ws_id)
    if not (
        0 < len(ws_id) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in ws_id)
    ):
        raise InvalidInput(f"workspace id {ws_id!r} is not allowed", hint=WS_HINT)
    async with ctx.catalog.accounts(write=True) as acc:
        workspace = await acc.workspaces.create(ws_id, description)
        await acc.members.set_role(ws_id, who.user.id, "owner")
        await acc.audit.record(ws_id, who.actor, "workspace.create", ws_id)
    return workspace


async def mine(ctx: ServiceContext, who: Principal) -> list[tuple[Workspace, str]]:
    async with ctx.catalog.accounts() as acc:
        if who.user.is_admin:
            roles = dict(await acc.members.of_user(who.user.id))
            return [(w, roles.get(w.id, "owner")) for w in await acc.workspaces.list()]
        return [
            (await acc.workspaces.get(ws), role)
            for ws, role in await acc.members.of_user(who.user.id)
        ]


async def show(ctx: ServiceContext, grant: Grant) -> dict[str, object]:
    async with ctx.catalog.accounts() as acc:
        workspace = await acc.workspaces.get(grant.workspace)
    async with ctx.catalog.reading(grant.workspace) as uow:
        used = await uow.files.stored_bytes()
    return {
        **workspace.as_dict(),
        "quota_bytes": quota_of(ctx, workspace),
        "used_bytes": used,
        "role": grant.role,
    }


def quota_of(ctx: ServiceContext, workspace: Workspace) -> int | None:
    if workspace.quota_bytes is not None:
        return workspace.quota_bytes
    return ctx.settings.workspace_quota_bytes or None


async def set_quota(ctx: ServiceContext, who: Principal, ws: str, quota: int | None) -> None:
    if quota is not None and quota < 0:
        raise InvalidInput("a quota cannot be negative", hint="give bytes, or null for none")
    async with ctx.catalog.accounts(write=True) as acc:
        await acc.workspaces.get(ws)
        await acc.workspaces.set_quota(ws, quota)
        await acc.audit.record(ws, who.actor, "workspace.quota", ws, quota_bytes=quota)


async def members(ctx: ServiceContext, grant: Grant) -> list[dict[str, object]]:
    async with ctx.catalog.accounts() as acc:
        rows = await acc.members.list(grant.workspace)
    return [{"username": u.username, "role": role} for u, role in rows]


async def set_member(
    ctx: ServiceContext, grant: Grant, username: str, role: str | None
) -> dict[str, object]:
    """Give ``username`` a role in the workspace, or (``role=None``) remove them."""
    if role is not None and role not in ROLES:
        raise InvalidInput(f"role {role!r} is not known", hint=f"use one of {sorted(ROLES)}")
    async with ctx.catalog.accounts(write=True) as acc:
        found = await acc.users.by_name(username)
        if found is None:
            raise NotFound("user", username)
        user = found[0]
        old = await acc.members.role(grant.workspace, user.id)
        if role is None and old is None:
            raise NotFound("member", username)
        if not can_assign(grant.role, old, role):
            await acc.audit.record(
                grant.workspace, grant.actor, "member.set", username, "denied", role=role
            )
            raise Forbidden("member.manage (owners and admins)", grant.role)
        if old == "owner" and role != "owner":
            owners = [u for u, r in await acc.members.list(grant.workspace) if r == "owner"]
            if len(owners) <= 1:
                raise Conflict(
                    f"{username!r} is the last owner of {grant.workspace!r}",
                    hint="make someone else owner first",
                )
        await acc.members.set_role(grant.workspace, user.id, role)
        await acc.audit.record(grant.workspace, grant.actor, "member.set", username, role=role)
    return {"username": username, "role": role}
