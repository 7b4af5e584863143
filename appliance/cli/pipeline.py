"""`ahoy pipeline ...`: the pipeline file (the edge agent's runtime), checked on
this machine; no server needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from ahoy_agent.runtime.pipeline_schema import PIPELINE_SCHEMA
from ahoy_agent.runtime.pipeline_validate import dotted, summary, validate_file

from appliance.cli.common import JsonOpt
from appliance.cli.output import emit_json, err, out

app = typer.Typer(help="Pipeline files: a model run on streams (sources in, sinks out).")

INVALID = 2  # the usage-error code: the file, not the appliance, is at fault


@app.command("schema")
def schema() -> None:
    """Print the pipeline file's JSON Schema (draft 2020-12)."""
    emit_json(PIPELINE_SCHEMA)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The pipeline YAML file.")],
    json_: JsonOpt = False,
) -> None:
    """Check a pipeline file: every error with its line, its key and the fix."""
    try:
        checked = validate_file(file)
    except (OSError, UnicodeDecodeError) as e:
        err.print(f"{file}: cannot be read: {e}", markup=False)
        raise typer.Exit(INVALID) from None
    if json_:
        emit_json(
            {
                "valid": checked.ok,
                "errors": [
                    {"line": error.line, "path": dotted(error.path), "message": error.message}
                    for error in checked.errors
                ],
            }
        )
    elif checked.ok and checked.pipeline is not None:
        out.print(f"{file}: valid; {summary(checked.pipeline)}", markup=False)
    else:
        for error in checked.errors:
            err.print(error.render(str(file)), markup=False)
    if not checked.ok:
        raise typer.Exit(INVALID)
