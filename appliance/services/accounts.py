"""Identity: the first admin, logins, tokens, users and workspaces.

No account exists until someone on the box runs ``ahoy admin init`` or uses the
one-time setup token ``ahoy serve`` prints on a fresh data dir.
"""

from __future__ import annotations

import asyncio
import time

from appliance.domain.identity import USERNAME_HINT, Principal, Token, User, valid_username
from appliance.domain.names import check_name
from appliance.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from appliance.services import credentials as cred
from appliance.services.context import ServiceContext

SETUP_TTL = 24 * 3600
#: What a call without a token is told: people log in; scripts send a token.
NOT_LOGGED_IN_HINT = (
    "log in with `ahoy login` (or the console); a script sends 'Authorization: Bearer <token>'"
    " with a token from `ahoy token create`"
)
DAY = 24 * 3600
#: How stale a token's ``last_used_at`` may get: a use within this many seconds of
#: the recorded one is not written, so a busy token costs one write a minute, not
#: one per request.
TOUCH_SECONDS = 60.0
#: The source of a call made on the box itself (no network address).
LOCAL = "local"


def _check_new_user(username: str, password: str) -> None:
    check_name("user", username)
    if not valid_username(username):
        raise InvalidInput(f"user name {username!r} is not allowed", hint=USERNAME_HINT)
    problem = cred.password_problem(password, username)
    if problem:
        raise InvalidInput(problem, hint="choose a longer password")


async def init_admin(ctx: ServiceContext, username: str, password: str) -> dict[str, object]:
    """Create the first admin (box admin, owner of the default workspace)."""
    _check_new_user(username, password)
    pw_hash = await asyncio.to_thread(cred.hash_password, password)
    ws = ctx.settings.workspace
    async with ctx.catalog.accounts(write=True) as acc:
        if await acc.users.count():
            raise Conflict(
                "the appliance already has users", hint="log in with `ahoy login` instead"
            )
        user = await acc.users.create(username, pw_hash, is_admin=True)
        await acc.workspaces.ensure(ws)
        await acc.members.set_role(ws, user.id, "owner")
        await acc.tokens.revoke_kind("setup")
        await acc.audit.record(None, f"user:{username}", "admin.init", username)
    return {"user": user.as_dict(), "workspace": ws, "role": "owner"}


async def issue_setup_token(ctx: ServiceContext) -> str | None:
    """On a box with no users: a fresh one-time token to create the first admin."""
    async with ctx.catalog.accounts(write=True) as acc:
        if await acc.users.count():
            return None
        await acc.tokens.revoke_kind("setup")
        token_id, token, secret_hash = cred.new_token("setup")
        await acc.tokens.add(token_id, None, "setup", "setup", secret_hash, acc.now + SETUP_TTL)
    return token


async def setup(
    ctx: ServiceContext, setup_token: str, username: str, password: str, source: str = LOCAL
) -> tuple[User, str]:
    """Trade the setup token for the first admin and a session for them."""
    await _check_setup_token(ctx, setup_token, source)
    await init_admin(ctx, username, password)
    _, token, user = await login(ctx, username, password, source=source)
    return user, token


async def _check_setup_token(ctx: ServiceContext, setup_token: str, source: str) -> None:
    parts = cred.split_token(setup_token)
    async with ctx.catalog.accounts() as acc:
        found = await acc.tokens.get(parts[1]) if parts and parts[0] == "setup" else None
    ok = (
        parts is not None
        and found is not None
        and found[0].live(time.time())
        and cred.secret_matches(parts[2], found[1])
    )
    if not ok:
        # Counted, not written per try: anyone may send these (see ``Shield.refused``).
        ctx.shield.refused(ctx.settings, source, "setup token not valid", account="setup")
        raise Unauthenticated(
            "the setup token is not valid (used, expired or mistyped)",
            hint="restart `ahoy serve` for a fresh one, or run `ahoy admin init` on the box",
        )


async def login(
    ctx: ServiceContext,
    username: str,
    password: str,
    ttl: int | None = None,
    source: str = LOCAL,
) -> tuple[Token, str, User]:
    """A short-lived session token for a user name and password.

    Failed logins are throttled per account and per ``source`` address (429 with
    Retry-After; docs/security.md) and audited as one summary per source and window."""
    ctx.shield.admit_login(ctx.settings, username, source)
    async with ctx.catalog.accounts() as acc:
        found = await acc.users.by_name(username)
    stored = found[1] if found else cred.DUMMY_HASH
    ok = await asyncio.to_thread(cred.check_password, password, stored)
    if not found or not ok or found[0].disabled_at is not None:
        ctx.shield.refused(ctx.settings, source, "wrong user name or password", account=username)
        raise Unauthenticated("wrong user name or password", hint="check both and try again")
    ctx.shield.login_succeeded(ctx.settings, username, source)
    user = found[0]
    ttl = min(ttl or ctx.settings.session_ttl_seconds, ctx.settings.session_ttl_seconds)
    token_id, token, secret_hash = cred.new_token("session")
    async with ctx.catalog.accounts(write=True) as acc:
        record = await acc.tokens.add(
            token_id, user.id, "session", "session", secret_hash, acc.now + ttl
        )
        await acc.audit.record(None, f"user:{username}", "session.create", username)
    return record, token, user


async def authenticate(ctx: ServiceContext, bearer: str | None) -> Principal:
    if not bearer:
        raise Unauthenticated("no token was sent", hint=NOT_LOGGED_IN_HINT)
    parts = cred.split_token(bearer)
    if parts is None or parts[0] not in ("pat", "session"):
        raise Unauthenticated("the token is malformed")
    async with ctx.catalog.accounts() as acc:
        found = await acc.tokens.get(parts[1])
        user = await acc.users.by_id(found[0].user_id) if found and found[0].user_id else None
    if found is None or user is None or not cred.secret_matches(parts[2], found[1]):
        raise Unauthenticated("the token is not known")
    token = found[0]
    if token.revoked_at is not None:
        raise Unauthenticated("the token was revoked")
    if time.time() >= token.expires_at:
        raise Unauthenticated("the token has expired")
    if user.disabled_at is not None:
        raise Unauthenticated("the user is disabled")
    if token.last_used_at is None or time.time() - token.last_used_at >= TOUCH_SECONDS:
        async with ctx.catalog.accounts(write=True) as acc:
            await acc.tokens.touch(token.id)
    return Principal(user, token.id)


async def create_token(
    ctx: ServiceContext, who: Principal, name: str, days: int
) -> tuple[Token, str]:
    if not 0 < days <= ctx.settings.token_max_days:
        raise InvalidInput(
            f"a token may live 1 to {ctx.settings.token_max_days} days, not {days}",
            hint="pass expires_in_days in that range",
        )
    check_name("token", name)
    if not name.strip() or len(name) > 100:
        raise InvalidInput("a token needs a name of 1-100 characters", hint="e.g. 'ci-runner'")
    token_id, token, secret_hash = cred.new_token("pat")
    async with ctx.catalog.accounts(write=True) as acc:
        record = await acc.tokens.add(
            token_id, who.user.id, "pat", name, secret_hash, acc.now + days * DAY
        )
        await acc.audit.record(None, who.actor, "token.create", token_id, name=name, days=days)
    return record, token


async def list_tokens(ctx: ServiceContext, who: Principal) -> list[Token]:
    async with ctx.catalog.accounts() as acc:
        return await acc.tokens.of(who.user.id)


async def revoke_token(ctx: ServiceContext, who: Principal, token_id: str) -> None:
    async with ctx.catalog.accounts(write=True) as acc:
        found = await acc.tokens.get(token_id)
        if found is None or found[0].user_id != who.user.id:
            raise NotFound("token", token_id, hint="`ahoy token list` shows yours")
        await acc.tokens.revoke(token_id)
        await acc.audit.record(None, who.actor, "token.revoke", token_id)


async def logout(ctx: ServiceContext, who: Principal) -> None:
    """Revoke the token this call came with."""
    async with ctx.catalog.accounts(write=True) as acc:
        await acc.tokens.revoke(who.token_id)
        await acc.audit.record(None, who.actor, "session.revoke", who.token_id)


async def create_user(
    ctx: ServiceContext, who: Principal, username: str, password: str, is_admin: bool = False
) -> User:
    _check_new_user(username, password)
    pw_hash = await asyncio.to_thread(cred.hash_password, password)
    async with ctx.catalog.accounts(write=True) as acc:
        user = await acc.users.create(username, pw_hash, is_admin)
        await acc.audit.record(None, who.actor, "user.create", username, is_admin=is_admin)
    return user


async def list_users(ctx: ServiceContext) -> list[User]:
    async with ctx.catalog.accounts() as acc:
        return await acc.users.list()
