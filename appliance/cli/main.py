"""The `ahoy` command line.

Data and identity commands are calls of the appliance's HTTP API through the SDK;
`serve`, `config` and `admin init` act on the box itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from appliance.cli import (
    admin,
    augment,
    dataset,
    events,
    identity,
    jobs,
    labels,
    model_eval,
    models,
    pipeline,
    queue_cmds,
    review,
    storage,
    train_script,
    workspaces,
)
from appliance.cli.common import STATE, JsonOpt, done, fail
from appliance.cli.output import out
from appliance.errors import ApplianceError
from appliance.settings import Settings

app = typer.Typer(
    name="ahoy",
    help="AHOY Perception: datasets, versions and models on your own box.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
dataset.app.add_typer(events.app, name="events")
app.add_typer(dataset.app, name="dataset")  # with labels' commands registered on it
app.add_typer(admin.app, name="admin")
app.add_typer(identity.tokens, name="token")
app.add_typer(identity.users, name="user")
app.add_typer(workspaces.workspaces, name="workspace")
app.add_typer(workspaces.members, name="member")
app.add_typer(workspaces.audit, name="audit")
app.add_typer(jobs.jobs, name="job")
app.add_typer(jobs.webhooks, name="webhook")
app.add_typer(review.label, name="label")
app.add_typer(models.models, name="model")
app.add_typer(pipeline.app, name="pipeline")
__all__ = [
    "app",
    "augment",
    "labels",
    "model_eval",
    "queue_cmds",
]  # importing these adds their commands
app.command()(identity.login)
app.command()(identity.logout)
app.command()(identity.whoami)
app.command("gc")(storage.gc_)
app.command()(storage.verify)
app.command()(storage.erase)
app.command()(queue_cmds.capacity)
app.command("train-script")(train_script.train_script)
app.command()(queue_cmds.plugins)


@app.callback()
def main(
    url: Annotated[str | None, typer.Option(help="Appliance URL (AHOY_URL).")] = None,
    profile: Annotated[
        str | None, typer.Option(help="Login profile to use (AHOY_PROFILE).")
    ] = None,
    workspace: Annotated[str | None, typer.Option(help="Workspace (AHOY_WORKSPACE).")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data dir, for serve/config/admin (AHOY_DATA_DIR).")
    ] = None,
    blob_store: Annotated[
        str | None, typer.Option(help="'seaweedfs' or 'local' (AHOY_BLOB_STORE).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    STATE.url, STATE.profile, STATE.workspace = url, profile, workspace
    STATE.data_dir, STATE.blob_store = data_dir, blob_store
    STATE.as_json = json_


@app.command()
def serve() -> None:
    """Run the appliance: the embedded blob store and the web server, supervised."""
    from appliance.runtime.serve import serve as run_serve

    try:
        settings = STATE.settings()
        raise typer.Exit(run_serve(settings))
    except ApplianceError as exc:
        raise fail(exc) from None


@app.command()
def config(json_: JsonOpt = False) -> None:
    """List every setting with its current value and what it does."""
    try:
        current = STATE.settings()
    except ApplianceError as exc:
        raise fail(exc, json_) from None
    rows = [
        {
            "name": n,
            "env": f"AHOY_{n.upper()}",
            "value": str(getattr(current, n)),
            "default": str(d),
            "help": h,
        }
        for n, d, h in Settings.describe()
    ]

    def human() -> None:
        for r in rows:
            out.print(f"{r['env']:28} = {r['value']:24} {r['help']}", markup=False)

    done(rows, json_, human)


def run() -> None:
    app()
