"""`ahoy workspace ...`, `ahoy member ...`, `ahoy audit ...`: tenancy and its trail."""

from __future__ import annotations

import itertools
from typing import Annotated

import typer

from appliance.cli.common import JsonOpt, api, done
from appliance.cli.output import local_time, out, table, value_text
from appliance.domain.wording import plural, size

workspaces = typer.Typer(
    help="Workspaces: separate datasets, members and quotas.", no_args_is_help=True
)
members = typer.Typer(help="Who may do what in the current workspace.", no_args_is_help=True)
audit = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

Ws = Annotated[str | None, typer.Argument(help="Workspace id (default: the current one).")]


@workspaces.command("create")
def workspace_create(
    ws_id: Annotated[str, typer.Argument(help="Workspace id, e.g. factory-a.")],
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    json_: JsonOpt = False,
) -> None:
    """Create a workspace; you become its owner (box admins only)."""
    w = api(lambda c: c.create_workspace(ws_id, description), json_)
    done(w, json_, lambda: out.print(f"created workspace {w.get('id', ws_id)}; you own it"))


@workspaces.command("list")
def workspace_list(json_: JsonOpt = False) -> None:
    """The workspaces you belong to, with your role."""
    rows = api(lambda c: c.list_workspaces(), json_)

    def human() -> None:
        table(
            ("WORKSPACE", "YOUR ROLE", "DESCRIPTION"),
            ((w["id"], w.get("role"), w.get("description")) for w in rows),
            empty="you are in no workspace: a box admin adds you (`ahoy member set`)",
        )

    done(rows, json_, human)


@workspaces.command("show")
def workspace_show(ws: Ws = None, json_: JsonOpt = False) -> None:
    """One workspace: your role, its quota and what it uses."""
    w = api(lambda c: c.get_workspace(ws), json_)

    def human() -> None:
        quota, used = w.get("quota_bytes"), w.get("used_bytes") or 0
        about = f": {w['description']}" if w.get("description") else ""
        out.print(f"workspace {w['id']} (your role: {w.get('role')}){about}", markup=False)
        if quota is None:
            out.print(f"  uses {size(used)}; no quota set")
        else:
            share = f" ({used / quota:.0%})" if quota else ""
            out.print(f"  uses {size(used)} of its {size(quota)} quota{share}")

    done(w, json_, human)


@members.command("list")
def member_list(json_: JsonOpt = False) -> None:
    """Members of the current workspace and their roles."""
    rows = api(lambda c: c.list_members(None), json_)

    def human() -> None:
        table(("MEMBER", "ROLE"), ((m["username"], m["role"]) for m in rows), empty="no members")

    done(rows, json_, human)


@members.command("set")
def member_set(
    username: Annotated[str, typer.Argument(help="User to add or change.")],
    role: Annotated[
        str, typer.Argument(help="owner, admin, reviewer, annotator, viewer or device.")
    ],
    json_: JsonOpt = False,
) -> None:
    """Give a user a role in the current workspace (adding them if needed)."""
    m = api(lambda c: c.set_member(None, username, role), json_)
    done(m, json_, lambda: out.print(f"{m.get('username', username)} is now {m.get('role', role)}"))


@members.command("rm")
def member_rm(
    username: Annotated[str, typer.Argument(help="Member to remove.")],
    json_: JsonOpt = False,
) -> None:
    """Remove a member from the current workspace."""
    api(lambda c: c.remove_member(None, username), json_)
    done({"removed": username}, json_, lambda: out.print(f"removed {username}"))


@audit.command("log")
def audit_log(
    limit: Annotated[int, typer.Option(help="Show at most this many entries.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """The current workspace's audit entries, newest first."""
    rows = api(lambda c: list(itertools.islice(c.audit_log(None), limit)), json_)

    def human() -> None:
        table(
            ("ID", "WHEN", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL"),
            (
                (
                    e.get("id"),
                    local_time(e.get("at")),
                    e.get("actor"),
                    e.get("action"),
                    e.get("target"),
                    e.get("outcome"),
                    value_text("detail", e["detail"]) if e.get("detail") else None,
                )
                for e in rows
            ),
            empty="no audit entries in this workspace yet",
        )

    done(rows, json_, human)


@audit.command("verify")
def audit_verify(json_: JsonOpt = False) -> None:
    """Check the audit log's hash chain end to end (box admins only)."""
    r = api(lambda c: c.verify_audit(), json_)

    def human() -> None:
        if r.get("ok"):
            out.print(
                f"audit chain intact: {plural(r.get('entries', 0), 'entry')}; head {r.get('head')}"
            )
            anchored = r.get("anchored")
            if anchored:
                out.print(
                    f"held against {plural(r.get('checkpoints') or 0, 'signed checkpoint')};"
                    " the newest "
                    f"covers entry {anchored['entry_id']} ({local_time(anchored['at'])}), "
                    f"key {r.get('key_id')}\n"
                    "(entries after it are chained but not yet anchored)"
                )
            else:
                out.print(
                    "no signed checkpoint yet: the chain alone cannot tell that its newest "
                    "entries were cut off"
                )
        else:
            out.print(f"audit chain BROKEN at entry {r.get('broken_at')}: {r.get('reason')}")

    done(r, json_, human)
    if not r.get("ok"):
        raise typer.Exit(3)
