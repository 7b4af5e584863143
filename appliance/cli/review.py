"""`ahoy label queue|show|set|submit|approve|reject|stats|prelabel`: annotation work
on a dataset's working area, over the API (docs/annotation.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done, fail
from appliance.cli.output import out, table
from appliance.domain.wording import plural
from appliance.errors import InvalidInput
from appliance.sdk.annotate import ANY

label = typer.Typer(help="Label images, submit them, review them.", no_args_is_help=True)

Dataset = Annotated[str, typer.Argument(help="Dataset name.")]
FilePath = Annotated[str, typer.Argument(help="The image's path in the dataset.")]


def _line(i: dict[str, Any]) -> str:
    who = i.get("annotator") or "-"
    note = f"  {i['comment']!r}" if i.get("comment") and i["state"] == "rejected" else ""
    return f"{i['state']:12} {who:20} {i['path']}{note}"


@label.command("queue")
def queue(
    dataset: Dataset,
    state: Annotated[
        str | None,
        typer.Option(help="unlabelled, in_progress, submitted, approved or rejected."),
    ] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only images you worked on.")] = False,
    prefix: Annotated[str | None, typer.Option(help="Only paths starting with this.")] = None,
    json_: JsonOpt = False,
) -> None:
    """The dataset's images with their review state, by path."""
    annotator = "me" if mine else None
    rows = api(
        lambda c: list(c.items(None, dataset, state=state, annotator=annotator, prefix=prefix)),
        json_,
    )

    def human() -> None:
        table(
            ("STATE", "ANNOTATOR", "PATH", "REVIEWER'S COMMENT"),
            (
                (
                    i["state"],
                    i.get("annotator"),
                    i["path"],
                    i.get("comment") if i["state"] == "rejected" else None,
                )
                for i in rows
            ),
            empty="no images match",
        )

    done(rows, json_, human)


@label.command("show")
def show(dataset: Dataset, path: FilePath, json_: JsonOpt = False) -> None:
    """One image: its state, its label document and its recent history."""
    r = api(lambda c: c.item(None, dataset, path), json_)

    def human() -> None:
        out.print(_line(r), markup=False)
        out.print(f"labels {r['label_sha256'] or 'none'}", markup=False)
        for h in r.get("history", []):
            note = f"  {h['comment']!r}" if h.get("comment") else ""
            out.print(f"  {h['action']:9} {h['actor']}{note}", markup=False)
        if r.get("labels") is not None:
            out.print(json.dumps(r["labels"], indent=2), markup=False)

    done(r, json_, human)


@label.command("set")
def set_(
    dataset: Dataset,
    path: FilePath,
    document: Annotated[Path, typer.Argument(help="A label document (JSON).")],
    if_match: Annotated[
        str | None,
        typer.Option(help="Only over these labels: the label_sha256 you started from, or none."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Save an image's labels from a JSON label document (ahoy.labels/1)."""
    try:
        doc = json.loads(document.read_text())
    except (OSError, ValueError) as exc:
        bad = InvalidInput(f"cannot read {document}: {exc}", hint="give a JSON label document")
        raise fail(bad, json_) from None
    expect: str | None = ANY if if_match is None else (None if if_match == "none" else if_match)
    r = api(lambda c: c.save_labels(None, dataset, path, doc, if_match=expect), json_)
    what = "saved" if r["changed"] else "unchanged"
    done(r, json_, lambda: out.print(f"{what} {path}: labels {r['label_sha256']}", markup=False))


@label.command("submit")
def submit(dataset: Dataset, path: FilePath, json_: JsonOpt = False) -> None:
    """Hand an image's labels to a reviewer."""
    r = api(lambda c: c.submit(None, dataset, path), json_)
    done(r, json_, lambda: out.print(f"submitted {path}", markup=False))


@label.command("approve")
def approve(dataset: Dataset, path: FilePath, json_: JsonOpt = False) -> None:
    """Approve an image's labels as they are now (reviewers)."""
    r = api(lambda c: c.review(None, dataset, path, "approve"), json_)
    done(r, json_, lambda: out.print(f"approved {path}", markup=False))


@label.command("reject")
def reject(
    dataset: Dataset,
    path: FilePath,
    comment: Annotated[str, typer.Option(help="What the annotator should fix.")],
    json_: JsonOpt = False,
) -> None:
    """Send an image back to its annotator, saying what to fix (reviewers)."""
    r = api(lambda c: c.review(None, dataset, path, "reject", comment), json_)
    done(r, json_, lambda: out.print(f"rejected {path}: {comment}", markup=False))


_ANNOTATOR_COLUMNS = (
    "ANNOTATOR",
    "FILES",
    "SAVES",
    "SUBMITTED",
    "APPROVED",
    "REJECTED",
    "REJECTION RATE",
    "FILES/ACTIVE HOUR",
)


@label.command("stats")
def stats(
    dataset: Dataset,
    hours: Annotated[float | None, typer.Option(help="Only the last N hours.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Per annotator: files, saves, submissions, approvals, rejections, throughput;
    per reviewer: decisions given."""
    since = time.time() - hours * 3600 if hours is not None else None
    r = api(lambda c: c.review_stats(None, dataset, since=since), json_)

    def human() -> None:
        table(
            _ANNOTATOR_COLUMNS,
            (
                (
                    a["annotator"],
                    a["files_saved"],
                    a["saves"],
                    a["submitted"],
                    a["approved"],
                    a["rejected"],
                    None if a["rejection_rate"] is None else f"{a['rejection_rate']:.0%}",
                    f"{a['files_per_active_hour'] or 0:.1f}",
                )
                for a in r["annotators"]
            ),
            empty="no annotation work yet",
        )
        if r["reviewers"]:
            out.print()
            table(
                ("REVIEWER", "APPROVED", "REJECTED"),
                ((v["reviewer"], v["approvals"], v["rejections"]) for v in r["reviewers"]),
                empty="",
            )

    done(r, json_, human)


@label.command("prelabel")
def prelabel(
    dataset: Dataset,
    path: FilePath,
    model: Annotated[str, typer.Option(help="The model to propose labels with.")],
    min_score: Annotated[float, typer.Option(help="Leave out proposals below this.")] = 0.25,
    json_: JsonOpt = False,
) -> None:
    """Add a model's proposals to an image's labels (marked proposal: true)."""
    r = api(lambda c: c.prelabel(None, dataset, path, model, min_score=min_score), json_)
    done(
        r,
        json_,
        lambda: out.print(
            f"{plural(r['proposed'], 'proposal')} added to {path}"
            if r["proposed"]
            else f"no proposals for {path} (none scored {min_score} or more)",
            markup=False,
        ),
    )
