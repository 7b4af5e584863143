"""`ahoy job ...` and `ahoy webhook ...`: long work, and who hears about it."""

from __future__ import annotations

import itertools
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done
from appliance.cli.output import out
from appliance.cli.storage import run_job

jobs = typer.Typer(help="Long-running work: gc, verify, and later training.", no_args_is_help=True)
webhooks = typer.Typer(help="HTTP callbacks on workspace events.", no_args_is_help=True)

JobId = Annotated[str, typer.Argument(help="Job id (`ahoy job list`).")]


def _job_line(j: Any) -> str:
    p = j.get("progress") or {}
    prog = f"{p.get('done', 0)}/{p.get('total', 0)} {p.get('unit', '')}" if p else ""
    return f"{j['id']}  {j.get('kind', ''):8} {j.get('state', ''):10} {prog}".rstrip()


@jobs.command("list")
def job_list(
    limit: Annotated[int, typer.Option(help="Show at most this many jobs.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Jobs of the current workspace."""
    rows = api(lambda c: list(itertools.islice(c.list_jobs(None), limit)), json_)

    def human() -> None:
        if not rows:
            out.print("no jobs")
        for j in rows:
            out.print(_job_line(j), markup=False)

    done(rows, json_, human)


@jobs.command("show")
def job_show(job_id: JobId, json_: JsonOpt = False) -> None:
    """One job: state, progress, result or error."""
    j = api(lambda c: c.get_job(None, job_id), json_)

    def human() -> None:
        out.print(_job_line(j), markup=False)
        for key in ("result", "error"):
            if j.get(key):
                out.print(f"  {key}: {j.get(key)}", markup=False)

    done(j, json_, human)


@jobs.command("wait")
def job_wait(job_id: JobId, json_: JsonOpt = False) -> None:
    """Follow a job until it ends; exits non-zero if it failed."""
    result = api(lambda c: run_job(c, c.get_job(None, job_id), "job", json_), json_)
    done(result, json_, lambda: out.print(f"job {job_id} succeeded: {result}", markup=False))


@webhooks.command("add")
def webhook_add(
    url: Annotated[str, typer.Argument(help="Where to POST events (http or https).")],
    event: Annotated[
        list[str] | None, typer.Option("--event", "-e", help="Event type; repeat; default all.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Register a webhook; its signing secret is shown this once."""
    h = api(lambda c: c.create_webhook(None, url, event or ["*"]), json_)

    def human() -> None:
        out.print(f"webhook {h['id']} -> {h['url']} for {', '.join(h.get('events', []))}")
        out.print(f"signing secret (shown once): {h.get('secret')}", markup=False)

    done(h, json_, human)


@webhooks.command("list")
def webhook_list(json_: JsonOpt = False) -> None:
    """Webhooks of the current workspace."""
    rows = api(lambda c: c.list_webhooks(None), json_)

    def human() -> None:
        if not rows:
            out.print("no webhooks")
        for h in rows:
            out.print(f"{h['id']}  {h['url']}  {', '.join(h.get('events', []))}", markup=False)

    done(rows, json_, human)


@webhooks.command("rm")
def webhook_rm(
    webhook_id: Annotated[str, typer.Argument(help="Webhook id.")], json_: JsonOpt = False
) -> None:
    """Delete a webhook."""
    api(lambda c: c.delete_webhook(None, webhook_id), json_)
    done({"deleted": webhook_id}, json_, lambda: out.print(f"deleted webhook {webhook_id}"))


@webhooks.command("deliveries")
def webhook_deliveries(
    webhook_id: Annotated[str, typer.Argument(help="Webhook id.")],
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """A webhook's delivery log: each attempt and its answer."""
    rows = api(
        lambda c: list(itertools.islice(c.webhook_deliveries(None, webhook_id), limit)), json_
    )

    def human() -> None:
        if not rows:
            out.print("no deliveries yet")
        for d in rows:
            out.print("  ".join(f"{v}" for v in d.values()), markup=False)

    done(rows, json_, human)
