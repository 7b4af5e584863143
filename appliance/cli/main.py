"""The `ahoy` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from appliance.cli import dataset
from appliance.cli.common import STATE, JsonOpt, actor, call, done
from appliance.cli.output import emit_error, out
from appliance.errors import ApplianceError
from appliance.services import erasure, gc
from appliance.settings import Settings

app = typer.Typer(
    name="ahoy",
    help="AHOY Perception: datasets, versions and models on your own box.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(dataset.app, name="dataset")


@app.callback()
def main(
    data_dir: Annotated[Path | None, typer.Option(help="Data dir (AHOY_DATA_DIR).")] = None,
    workspace: Annotated[str | None, typer.Option(help="Workspace (AHOY_WORKSPACE).")] = None,
    blob_store: Annotated[
        str | None, typer.Option(help="'seaweedfs' or 'local' (AHOY_BLOB_STORE).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    STATE.data_dir, STATE.workspace, STATE.blob_store = data_dir, workspace, blob_store
    STATE.as_json = json_


@app.command()
def serve() -> None:
    """Run the appliance: the embedded blob store and the web server, supervised."""
    from appliance.runtime.serve import serve as run_serve

    try:
        settings = STATE.settings()
        raise typer.Exit(run_serve(settings))
    except ApplianceError as exc:
        emit_error(exc, False)
        raise typer.Exit(exc.exit_code) from None


@app.command("gc")
def gc_(
    grace: Annotated[
        int | None, typer.Option(help="Seconds a blob must be unreferenced (default: setting).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Only report what would be reclaimed.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Reclaim blobs nothing has referenced for the grace period."""
    r = call(lambda ctx, ws: gc.collect(ctx, ws, actor(), grace, dry_run), json_)
    verb = "would reclaim" if dry_run else "reclaimed"
    done(
        r.as_dict(),
        json_,
        lambda: out.print(
            f"{verb} {r.reclaimed_blobs} blobs ({r.reclaimed_bytes:,} bytes); "
            f"{r.store_orphans} orphaned blobs swept; {r.marked} newly unreferenced"
        ),
    )


@app.command()
def verify(
    deep: Annotated[bool, typer.Option(help="Read back and re-hash every blob.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Check that every file the catalog knows resolves to an intact blob."""
    r = call(lambda ctx, ws: gc.verify(ctx, ws, deep), json_)
    done(
        r.as_dict(),
        json_,
        lambda: out.print(
            f"checked {r.checked} blobs: {len(r.missing)} missing, {len(r.corrupt)} corrupt"
        ),
    )
    if not r.ok:
        raise typer.Exit(3)


@app.command()
def erase(
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
    sha256: Annotated[str | None, typer.Option(help="Content to erase.")] = None,
    dataset_name: Annotated[str | None, typer.Option("--dataset", "-d")] = None,
    file: Annotated[str | None, typer.Option(help="File of the dataset's working area.")] = None,
    json_: JsonOpt = False,
) -> None:
    """GDPR erasure: destroy a content's bytes everywhere, with an audited tombstone."""
    r = call(
        lambda ctx, ws: erasure.erase(
            ctx, ws, actor(), reason, sha256=sha256, dataset=dataset_name, filename=file
        ),
        json_,
    )
    done(
        r.as_dict(),
        json_,
        lambda: out.print(
            f"erased sha256:{r.sha256}; dropped from {len(r.dropped_from_working)} working areas; "
            f"versions that held it now report it as erased"
        ),
    )


@app.command()
def config(json_: JsonOpt = False) -> None:
    """List every setting with its current value and what it does."""
    current = STATE.settings()
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
