"""`ahoy job submit/cancel/log/kinds`, `ahoy capacity` and `ahoy plugins`: governed jobs."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done
from appliance.cli.jobs import JobId, finished_lines, jobs
from appliance.cli.output import out, print_lines, value_text
from appliance.cli.storage import run_job
from appliance.errors import InvalidInput


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``name=value`` pairs; values are read as JSON when they parse (numbers,
    booleans, lists), else kept as text."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"parameter {pair!r} is not name=value", hint="e.g. -p epochs=3")
        try:
            params[name] = json.loads(raw)
        except ValueError:
            params[name] = raw
    return params


def _admission_line(job: Any) -> str:
    a = job.get("admission") or {}
    if job.get("state") == "queued" and a.get("position"):
        return f"queued at position {a['position']}: {a.get('reason', '')}"
    return f"{job.get('state')}: {a.get('reason', '')}"


@jobs.command("submit")
def job_submit(
    kind: Annotated[str, typer.Argument(help="Job kind (`ahoy job kinds`).")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="name=value; repeat.")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Follow it to its end with a progress bar.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Submit a governed job: it runs when the box has room, or is refused with why."""
    job = api(lambda c: c.submit_job(kind, parse_params(param or [])), json_)
    if wait:  # the same as `ahoy job wait`: progress while it runs, then its result
        result = api(lambda c: run_job(c, job, kind, json_), json_)
        done(result, json_, lambda: print_lines(finished_lines(job, result)))
        return
    done(job, json_, lambda: out.print(f"job {job['id']} {_admission_line(job)}", markup=False))


@jobs.command("cancel")
def job_cancel(job_id: JobId, json_: JsonOpt = False) -> None:
    """Cancel a job: a queued one at once, a running one by killing its processes."""
    job = api(lambda c: c.cancel_job(job_id), json_)
    ended = job["state"] in ("succeeded", "failed", "cancelled")
    done(
        job,
        json_,
        lambda: out.print(
            f"job {job_id} had already {job['state'].replace('cancelled', 'been cancelled')};"
            " nothing to cancel"
            if ended
            else f"job {job_id}: cancel sent ({job['state']})",
            markup=False,
        ),
    )


@jobs.command("log")
def job_log(
    job_id: JobId,
    kind: Annotated[str | None, typer.Option(help="Only events of this kind.")] = None,
    json_: JsonOpt = False,
) -> None:
    """The events a job recorded: metrics, log lines, ..."""
    events = api(lambda c: list(c.job_log(job_id, kind=kind)), json_)

    def human() -> None:
        for e in events:
            data = e["data"]
            text = data["line"] if e["kind"] == "log" else value_text(e["kind"], data)
            out.print(f"{e['seq']:>5} {e['kind']:8} {text}", markup=False)

    done(events, json_, human)


@jobs.command("kinds")
def job_kinds(json_: JsonOpt = False) -> None:
    """The kinds of governed jobs this appliance runs."""
    kinds = api(lambda c: c.job_kinds(), json_)

    def human() -> None:
        for k in kinds:
            out.print(f"{k['name']:16} {k['summary']}", markup=False)

    done(kinds, json_, human)


def capacity(json_: JsonOpt = False) -> None:
    """The box as the governor sees it: cores, RAM, disk, GPUs; jobs running and queued."""
    cap = api(lambda c: c.capacity(), json_)

    def human() -> None:
        r = cap["reading"]
        gib = 1 << 30
        out.print(
            f"{r['cores']} cores, {r['ram_available'] / gib:.1f} of {r['ram_total'] / gib:.1f}"
            f" GiB RAM free, {r['disk_free'] / gib:.1f} GiB disk free, load {r['load1']:.2f}"
        )
        for g in r["gpus"]:
            out.print(
                f"GPU {g['index']}: {g['name']}, {g['memory_free_mib']} of"
                f" {g['memory_total_mib']} MiB free, {g['utilization']:.0f}% busy"
            )
        if not r["gpus"]:
            out.print(f"no GPU: {r['gpu_note']}", markup=False)
        out.print(f"jobs: {cap['running']} running, {cap['queued']} queued; worker {cap['worker']}")

    done(cap, json_, human)


def plugins(json_: JsonOpt = False) -> None:
    """Model plugins (loaded, or why not) and which training tiers this box offers."""
    found = api(lambda c: c.plugins(), json_)

    def human() -> None:
        for p in found["plugins"]:
            head = f"{p['name']} {p['version'] or ''}".strip()
            if p["status"] != "available":
                out.print(f"{head:28} unavailable: {p['error']}", markup=False)
                continue
            ids = [m["id"] for m in p["models"]]
            shown = ", ".join(ids[:6]) + (f" … ({len(ids)} models)" if len(ids) > 6 else "")
            out.print(f"{head:28} {shown}", markup=False)
        for name, t in found["tiers"].items():
            state = "available" if t["available"] else f"unavailable: {t.get('reason', '')}"
            extra = f" ({t['runtime']} {t['version']})" if t.get("runtime") else ""
            out.print(f"tier {t['tier']} {name:10} {state}{extra}", markup=False)

    done(found, json_, human)
