"""`ahoy dataset augment`: expand a version's train split into a derived version."""

from __future__ import annotations

from typing import Annotated

import typer

from appliance.cli.common import JsonOpt, api, done
from appliance.cli.dataset import Name, app
from appliance.cli.output import out
from appliance.cli.queue_cmds import parse_params
from appliance.cli.storage import run_job
from appliance.domain.wording import plural


@app.command("augment")
def augment(
    name: Name,
    version: Annotated[str, typer.Option("--version", "-v", help="Source version.")] = "latest",
    into: Annotated[
        str | None, typer.Option(help="Dataset for the result (default <name>-aug).")
    ] = None,
    copies: Annotated[int, typer.Option(help="Copies per train image (7 → 8×).")] = 7,
    seed: Annotated[int, typer.Option(help="Same seed, same copies.")] = 0,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Recipe limit name=value, e.g. rotate=15; repeat."),
    ] = None,
    wait: Annotated[bool, typer.Option(help="Follow it to its end with a progress bar.")] = True,
    json_: JsonOpt = False,
) -> None:
    """Expand the TRAIN split N× (geometric + colour) into a new version of another
    dataset; val and test are carried over untouched. `ahoy job kinds` lists the
    recipe limits and their defaults."""
    recipe = {"copies": copies, "seed": seed, **parse_params(set_ or [])}
    job = api(lambda c: c.augment(name, version=version, into=into, **recipe), json_)
    if not wait:
        done(job, json_, lambda: out.print(f"job {job['id']} {job['state']}", markup=False))
        return
    r = api(lambda c: run_job(c, job, "augment", json_), json_)
    done(
        r,
        json_,
        lambda: out.print(
            f"{r['dataset']}@{r['version']}: {plural(r['files'], 'file')},"
            f" {plural(r['copies'], 'new train copy', 'new train copies')} of {r['source']}"
            f" (recipe {r['recipe_sha256'][:12]})",
            markup=False,
        ),
    )
