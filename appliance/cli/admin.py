"""`ahoy admin ...`: run on the box itself, against its data dir, no server needed."""

from __future__ import annotations

from typing import Annotated

import typer

from appliance.cli.common import STATE, JsonOpt, PasswordStdin, call, done, read_password
from appliance.cli.output import out

app = typer.Typer(help="On-the-box administration (works without a running server).")


@app.command("init")
def init(
    username: Annotated[str, typer.Option(help="The first admin's user name.")],
    password_stdin: PasswordStdin = False,
    json_: JsonOpt = False,
) -> None:
    """Create the first admin, owner of the default workspace (refused once users exist)."""
    from appliance.services import accounts

    password = read_password(password_stdin, confirm=not password_stdin)
    r = call(lambda ctx, ws: accounts.init_admin(ctx, username, password), json_, blobs=False)

    def human() -> None:
        from appliance.bootstrap import serve_is_running

        out.print(f"created admin {username}, owner of workspace {r.get('workspace')}")
        first = (
            ""
            if serve_is_running(STATE.settings())
            else "start the appliance (`ahoy serve`), then "
        )
        out.print(f"next: {first}`ahoy login --username {username}`")

    done(r, json_, human)
