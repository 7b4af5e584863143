"""`ahoy train-script`: run your own training script, sandboxed, on a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done
from appliance.cli.jobs import finished_lines
from appliance.cli.output import out, print_lines
from appliance.cli.queue_cmds import parse_params
from appliance.cli.storage import run_job

GIB = 1 << 30


def train_script(
    dataset: Annotated[str, typer.Argument(help="Dataset to train on.")],
    script: Annotated[
        Path,
        typer.Argument(
            help="Your training script (docs/training.md, Script mode).",
            exists=True,
            dir_okay=False,
        ),
    ],
    requirements: Annotated[
        Path | None,
        typer.Option(
            help="A requirements.txt: each line must be met by what the appliance has.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Model to register (default: dataset).")] = None,
    task: Annotated[str, typer.Option(help="detect, segment, pose or classify.")] = "detect",
    version: Annotated[str, typer.Option("--version", "-v", help="Dataset version.")] = "latest",
    cpu_cores: Annotated[int, typer.Option(help="Cores it may use.")] = 1,
    ram_gib: Annotated[float, typer.Option(help="Memory limit in GiB.")] = 4.0,
    timeout: Annotated[float, typer.Option(help="Wall-clock limit in seconds.")] = 3600.0,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="name=value into /job/params.json; repeat."),
    ] = None,
    wait: Annotated[bool, typer.Option(help="Follow it to its end with a progress bar.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Run your own training script in the appliance's sandbox (no network, data
    read-only, limits) and register the weights it leaves as a model."""

    def submit(c: Any) -> Any:
        run = c.train_script(
            dataset,
            script,
            requirements=requirements,
            name=name,
            task=task,
            version=version,
            cpu_cores=cpu_cores,
            ram_bytes=int(ram_gib * GIB),
            timeout_s=timeout,
            params=parse_params(param or []),
        )
        return run.job()

    job = api(submit, json_)
    if wait:
        result = api(lambda c: run_job(c, job, "train-script", json_), json_)
        done(result, json_, lambda: print_lines(finished_lines(job, result)))
        return
    done(job, json_, lambda: out.print(f"job {job['id']} {job.get('state')}", markup=False))
