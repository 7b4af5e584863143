"""`ahoy login|logout|whoami`, `ahoy token ...`, `ahoy user ...`: who you are.

`login` trades a password for a personal access token and keeps only that token,
in a 0600 profile file; the password and the short session are never stored.
"""

from __future__ import annotations

import socket
from typing import Annotated, Any

import typer

from appliance.cli.common import STATE, JsonOpt, PasswordStdin, api, done, fail, read_password
from appliance.cli.output import local_time, out, table
from appliance.errors import ApplianceError
from appliance.sdk import ApiError, Client
from appliance.sdk.profile import Profile, ProfileStore, resolve

LOGIN_TOKEN_DAYS = 90

tokens = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
users = typer.Typer(help="User accounts (box admins).", no_args_is_help=True)


def login(
    url: Annotated[str | None, typer.Option(help="Appliance URL (AHOY_URL).")] = None,
    username: Annotated[str | None, typer.Option(help="Your user name.")] = None,
    password_stdin: PasswordStdin = False,
    workspace: Annotated[str | None, typer.Option(help="Workspace to act in by default.")] = None,
    profile: Annotated[str | None, typer.Option(help="Profile name to save under.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Log in and keep a personal token (90 days) in your profile."""
    try:
        r = resolve(profile or STATE.profile, url=url or STATE.url)
    except ApplianceError as exc:
        raise fail(exc, json_) from None
    user = username or typer.prompt("User name")
    password = read_password(password_stdin)
    name = f"cli@{socket.gethostname()}"

    def run(c: Client) -> dict[str, Any]:
        session = c.login(user, password)
        try:
            mine = [w["id"] for w in c.me().get("workspaces", [])]
            pat = c.create_token(name, LOGIN_TOKEN_DAYS)
            return pat | {"user": session.get("user"), "workspaces": mine}
        finally:
            c.logout()  # the session token served its purpose: revoke it now

    with Client(r.url) as c:
        try:
            pat = run(c)
        except ApplianceError as exc:
            raise fail(exc, json_) from None
    ws = workspace or STATE.workspace or _default_workspace(r.profile.workspace, pat["workspaces"])
    saved = Profile(r.profile.name, r.url, pat["token"], str(pat["id"]), user, ws)
    store = ProfileStore()
    store.save(saved)
    done(
        {**saved.public(), "token_name": name, "expires_at": pat.get("expires_at")},
        json_,
        lambda: out.print(
            f"logged in to {r.url} as {user}, acting in workspace {ws!r}; token {name!r} "
            f"saved in profile {saved.name!r} ({store.path})"
        ),
    )


def _default_workspace(current: str | None, mine: list[str]) -> str | None:
    """Keep the profile's workspace if the user is in it, else their only (or first) one."""
    if not mine or current in mine:
        return current
    return "default" if "default" in mine else sorted(mine)[0]


def logout(json_: JsonOpt = False) -> None:
    """Revoke your profile's token and forget it."""
    store = ProfileStore()
    r = resolve(STATE.profile, url=STATE.url, store=store)
    p = store.get(r.profile.name)
    if p is None or not p.token:
        done({"logged_out": False}, json_, lambda: out.print("not logged in"))
        return
    with Client(p.url, p.token) as c:
        try:
            if p.token_id:
                c.revoke_token(p.token_id)
            else:
                c.logout()
        except ApiError as exc:
            if exc.status != 401:  # 401: revoked or expired already, which is the goal
                raise fail(exc, json_) from None
    store.delete(p.name)
    done(
        {"logged_out": True, "profile": p.name},
        json_,
        lambda: out.print(f"logged out of {p.url}; profile {p.name!r} removed"),
    )


def whoami(json_: JsonOpt = False) -> None:
    """The user your token belongs to, and your workspaces."""

    def run(c: Client) -> dict[str, Any]:
        return c.me() | {"url": c.base_url, "workspace": c.workspace}

    me = api(run, json_)

    def human() -> None:
        u = me["user"]
        admin = " (box admin)" if u.get("is_admin") else ""
        out.print(f"{u['username']}{admin} at {me['url']}, acting in {me['workspace']}")
        for w in me.get("workspaces", []):
            out.print(f"  {w['id']:24} {w['role']}")

    done(me, json_, human)


@tokens.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. ci-runner.")],
    days: Annotated[int, typer.Option(help="Days until it expires.")] = 90,
    json_: JsonOpt = False,
) -> None:
    """Create a personal token; its secret is shown this once."""
    t = api(lambda c: c.create_token(name, days), json_)

    def human() -> None:
        out.print(
            f"token {t['id']} ({t['name']}), expires {local_time(t.get('expires_at'))}:",
            markup=False,
        )
        out.print(t["token"], markup=False)
        out.print("store it now: it is not shown again")

    done(t, json_, human)


@tokens.command("list")
def token_list(json_: JsonOpt = False) -> None:
    """Your personal tokens (never their secrets)."""
    rows = api(lambda c: c.list_tokens(), json_)
    done(
        rows,
        json_,
        lambda: table(
            ("ID", "NAME", "KIND", "CREATED", "EXPIRES", "LAST USED", "REVOKED"),
            (
                (t["id"], t["name"], t["kind"], *(local_time(t.get(k)) for k in _TOKEN_TIMES))
                for t in rows
            ),
            empty="no tokens: `ahoy token create NAME`",
        ),
    )


_TOKEN_TIMES = ("created_at", "expires_at", "last_used_at", "revoked_at")


@tokens.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="Token id (`ahoy token list`).")],
    json_: JsonOpt = False,
) -> None:
    """Revoke one of your tokens."""
    api(lambda c: c.revoke_token(token_id), json_)
    done({"revoked": token_id}, json_, lambda: out.print(f"revoked token {token_id}"))


@users.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="New user's name.")],
    admin: Annotated[bool, typer.Option("--admin", help="Make them a box admin.")] = False,
    password_stdin: PasswordStdin = False,
    json_: JsonOpt = False,
) -> None:
    """Create a user (box admins only)."""
    password = read_password(password_stdin, confirm=not password_stdin)
    u = api(lambda c: c.create_user(username, password, admin), json_)
    done(u, json_, lambda: out.print(f"created user {u.get('username', username)}"))


@users.command("list")
def user_list(json_: JsonOpt = False) -> None:
    """Every user (box admins only)."""
    rows = api(lambda c: c.list_users(), json_)
    done(
        rows,
        json_,
        lambda: table(
            ("USER", "BOX ADMIN", "CREATED"),
            (
                (u["username"], bool(u.get("is_admin")), local_time(u.get("created_at")))
                for u in rows
            ),
            empty="no users",
        ),
    )
