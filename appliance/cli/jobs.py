"""`ahoy job ...` and `ahoy webhook ...`: long work, and who hears about it."""

from __future__ import annotations

import itertools
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done
from appliance.cli.output import cell, local_time, out, print_lines, result_lines, table
from appliance.cli.storage import run_job

jobs = typer.Typer(help="Long-running work: gc, verify, and later training.", no_args_is_help=True)
webhooks = typer.Typer(help="HTTP callbacks on workspace events.", no_args_is_help=True)

JobId = Annotated[str, typer.Argument(help="Job id (`ahoy job list`).")]


def progress_text(j: Any) -> str:
    p = j.get("progress") or {}
    if not p.get("total"):
        return ""
    return f"{p.get('done', 0):,}/{p['total']:,} {p.get('unit') or ''}".rstrip()


def finished_lines(job: Any, result: Any) -> list[str]:
    """``job ID (kind) succeeded`` and its result, one aligned line per figure."""
    head = f"job {job['id']} ({job.get('kind')}) succeeded"
    lines = result_lines(result) if isinstance(result, dict) else []
    return [head + (":" if lines else ""), *lines]


@jobs.command("list")
def job_list(
    limit: Annotated[int, typer.Option(help="Show at most this many jobs.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Jobs of the current workspace."""
    rows = api(lambda c: list(itertools.islice(c.list_jobs(None), limit)), json_)

    def human() -> None:
        table(
            ("ID", "KIND", "STATE", "PROGRESS", "CREATED", "BY"),
            (
                (
                    j["id"],
                    j.get("kind"),
                    j.get("state"),
                    progress_text(j),
                    local_time(j.get("created_at")),
                    j.get("created_by"),
                )
                for j in rows
            ),
            empty="no jobs",
        )

    done(rows, json_, human)


@jobs.command("show")
def job_show(job_id: JobId, json_: JsonOpt = False) -> None:
    """One job: state, progress, result or error."""
    j = api(lambda c: c.get_job(None, job_id), json_)

    def human() -> None:
        out.print(f"job {j['id']} ({j.get('kind')}): {j.get('state')}", markup=False)
        facts = {
            "created": f"{local_time(j.get('created_at'))} by {cell(j.get('created_by'))}",
            "started": local_time(j.get("started_at")),
            "finished": local_time(j.get("finished_at")),
            "progress": progress_text(j),
        }
        a: Any = j.get("admission") or {}
        if a.get("reason"):
            where = f"position {a['position']}: " if a.get("position") else ""
            facts["admission"] = where + str(a["reason"])
        print_lines(f"  {k:9}  {cell(v)}" for k, v in facts.items() if v)
        for key in ("params", "result", "error"):
            value = j.get(key)
            if isinstance(value, dict) and value:
                out.print(f"{key}:", markup=False)
                print_lines(result_lines(value))
            elif value:
                out.print(f"{key}: {value}", markup=False)

    done(j, json_, human)


@jobs.command("wait")
def job_wait(job_id: JobId, json_: JsonOpt = False) -> None:
    """Follow a job until it ends; exits non-zero if it failed."""
    job = api(lambda c: c.get_job(None, job_id), json_)
    result = api(lambda c: run_job(c, job, str(job.get("kind") or "job"), json_), json_)
    done(result, json_, lambda: print_lines(finished_lines(job, result)))


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
        table(
            ("ID", "URL", "EVENTS"),
            ((h["id"], h["url"], ", ".join(h.get("events", []))) for h in rows),
            empty="no webhooks: `ahoy webhook add URL`",
        )

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
        table(
            ("WHEN", "EVENT", "TYPE", "ATTEMPT", "OUTCOME", "HTTP", "TOOK"),
            (
                (
                    local_time(d.get("at")),
                    d.get("event_id"),
                    d.get("type"),
                    d.get("attempt"),
                    d.get("outcome"),
                    d.get("status_code"),
                    None if d.get("duration_ms") is None else f"{d['duration_ms']:,.0f} ms",
                )
                for d in rows
            ),
            empty="no deliveries yet",
        )

    done(rows, json_, human)
