"""`ahoy gc`, `ahoy verify`, `ahoy erase`: storage work the appliance runs as jobs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done, fail, want_json
from appliance.cli.output import JobBar, err, out
from appliance.domain.wording import plural, size
from appliance.sdk import ApiError, Client, Job


def run_job(c: Client, job: Job, stage: str, as_json: bool) -> Any:
    """Follow a job to its end with a progress bar; its result, or exit with its error.
    `job wait`, `job submit --wait` and every command that runs a job show the same."""
    people = not want_json(as_json)
    a: Any = job.get("admission") or {}
    if people and job.get("state") == "queued" and a.get("position"):
        err.print(
            f"job {job['id']} queued at position {a['position']}: {a.get('reason', '')}",
            markup=False,
        )
    bar = JobBar(people, stage)
    try:
        final = c.wait_job(None, job["id"], on_progress=bar)
    finally:
        bar.finish()
    if final.get("state") != "succeeded":
        e = final.get("error") or {}
        if not isinstance(e, dict):
            e = {"detail": str(e)}
        raise fail(
            ApiError(
                0,
                str(e.get("code") or "job-failed"),
                f"job {job['id']} ({job.get('kind', stage)}) failed: {e.get('detail', '')}",
                hint=str(e.get("hint") or f"`ahoy job show {job['id']}` has the details"),
            ),
            as_json,
        )
    return final.get("result") or {}


def gc_(
    grace: Annotated[
        int | None, typer.Option(help="Seconds a blob must be unreferenced (default: setting).")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Only report what would be reclaimed.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Reclaim blobs nothing has referenced for the grace period."""
    r = api(lambda c: run_job(c, c.gc(None, grace, dry_run), "gc", json_), json_)
    verb = "would reclaim" if dry_run else "reclaimed"
    done(
        r,
        json_,
        lambda: out.print(
            f"{verb} {plural(r.get('reclaimed_blobs', 0), 'blob')}"
            f" ({size(r.get('reclaimed_bytes', 0))}); "
            f"{plural(r.get('store_orphans', 0), 'orphaned blob')} swept; "
            f"{plural(r.get('marked', 0), 'blob')} newly unreferenced"
        ),
    )


def verify(
    deep: Annotated[bool, typer.Option(help="Read back and re-hash every blob.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Check that every file the catalog knows resolves to an intact blob."""
    r = api(lambda c: run_job(c, c.verify(None, deep), "verify", json_), json_)
    missing, corrupt = r.get("missing") or [], r.get("corrupt") or []
    done(
        r,
        json_,
        lambda: out.print(
            f"checked {plural(r.get('checked', 0), 'blob')}: "
            f"{len(missing)} missing, {len(corrupt)} corrupt"
        ),
    )
    if not r.get("ok", not (missing or corrupt)):
        raise typer.Exit(3)


def erase(
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
    sha256: Annotated[str | None, typer.Option(help="Content to erase.")] = None,
    dataset_name: Annotated[str | None, typer.Option("--dataset", "-d")] = None,
    file: Annotated[
        str | None,
        typer.Option(
            help="A file of the dataset: of --version, else the working area or any version."
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option("--version", "-v", help="The version --file is in (number or tag)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """GDPR erasure: destroy a content's bytes everywhere, with an audited tombstone."""
    r = api(
        lambda c: c.erase(
            None, reason, sha256=sha256, dataset=dataset_name, file=file, version=version
        ),
        json_,
    )
    dropped = r.get("dropped_from_working") or []
    done(
        r,
        json_,
        lambda: out.print(
            f"erased sha256:{r.get('sha256')}; dropped from "
            f"{plural(len(dropped), 'working area')}; "
            f"versions that held it now report it as erased"
        ),
    )
