"""`ahoy model evaluate|export|evaluations|report|compare`: measure, export with the
parity gate, and compare model versions on the same data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done, fail
from appliance.cli.models import models
from appliance.cli.output import out
from appliance.cli.storage import run_job
from appliance.destination import Destination
from appliance.domain import measurement, parity
from appliance.domain.evaluation.coco_stats import LABELS as COCO_STATS_LABELS
from appliance.domain.names import check_filename
from appliance.domain.wording import plural, size
from appliance.errors import ApplianceError

ModelRef = Annotated[str, typer.Argument(help="Model version: name or name@ref.")]
Dataset = Annotated[
    str | None, typer.Option(help="Data to measure on (default: what it was trained on).")
]
Version = Annotated[str | None, typer.Option(help="Its version (number, tag, latest).")]
Split = Annotated[str | None, typer.Option(help="Split (default test; val if none).")]
Wait = Annotated[bool, typer.Option(help="Follow the job to its end with a progress bar.")]


#: COCOeval's twelve figures, in its order
STATS = tuple(COCO_STATS_LABELS)


def _score(v: float | None) -> str:
    return "—" if v is None else f"{v:.3f}"


@models.command("evaluate")
def evaluate(
    model: ModelRef,
    dataset: Dataset = None,
    version: Version = None,
    split: Split = None,
    conf: Annotated[float, typer.Option(help="Score threshold of the confusion matrix.")] = 0.25,
    iou: Annotated[float, typer.Option(help="IoU threshold of the confusion matrix.")] = 0.45,
    wait: Wait = True,
    json_: JsonOpt = False,
) -> None:
    """Measure a model version: COCO AP per class, PR curves, confusion matrix and
    per-image errors (`ahoy model report ID` shows them)."""
    job = api(
        lambda c: c.evaluate(
            model, dataset=dataset, version=version, split=split, conf=conf, iou=iou
        ),
        json_,
    )
    if not wait:
        done(job, json_, lambda: out.print(f"job {job['id']} {job['state']}", markup=False))
        return
    r = api(lambda c: run_job(c, job, "evaluate", json_), json_)
    done(
        r,
        json_,
        lambda: out.print(
            f"{r['model']} on {r['dataset']}@{r['version']} {r['split']}"
            f" ({plural(r['images'], 'image')}):"
            f" mAP50 {_score(r['map50'])}, mAP50-95 {_score(r['map50_95'])}"
            f"  [evaluation {r['evaluation']}]",
            markup=False,
        ),
    )


@models.command("export")
def export(
    model: ModelRef,
    fmt: Annotated[str, typer.Option("--format", help="onnx")] = "onnx",
    static: Annotated[bool, typer.Option(help="A static export (fixed batch and size).")] = False,
    nms: Annotated[bool, typer.Option(help="Put NMS inside the model.")] = False,
    nms_conf: Annotated[
        float | None, typer.Option(help="Score threshold baked into that NMS (0.25).")
    ] = None,
    opset: Annotated[int | None, typer.Option(help="ONNX opset.")] = None,
    dataset: Dataset = None,
    version: Version = None,
    split: Split = None,
    wait: Wait = True,
    json_: JsonOpt = False,
) -> None:
    """Export trained weights as a new model version, with its accuracy measured
    against the source (promotion refuses an export that lost too much)."""
    options: dict[str, Any] = {"dynamic": not static, "nms": nms, "opset": opset}
    options["nms_conf"] = nms_conf
    options |= {"dataset": dataset, "version": version, "split": split}
    options = {k: v for k, v in options.items() if v is not None}
    job = api(lambda c: c.export_model(model, fmt, **options), json_)
    if not wait:
        done(job, json_, lambda: out.print(f"job {job['id']} {job['state']}", markup=False))
        return
    r = api(lambda c: run_job(c, job, "export", json_), json_)
    done(
        r,
        json_,
        lambda: out.print(
            f"{r['model']}@{r['model_version']}: {r['format']} of v{r['source_version']}"
            f" (opset {r['opset']}, {size(r['size'])}); {parity.describe(r['parity'])}",
            markup=False,
        ),
    )


@models.command("evaluations")
def evaluations(
    name: Annotated[str, typer.Argument(help="Model name.")],
    ref: Annotated[str, typer.Argument(help="Version.")] = "latest",
    json_: JsonOpt = False,
) -> None:
    """A model version's evaluations, newest first."""
    rows = api(lambda c: c.evaluations(name, ref), json_)

    def human() -> None:
        if not rows:
            out.print("no evaluations: `ahoy model evaluate NAME@REF`")
        for e in rows:
            s = e["summary"]
            out.print(
                f"{e['id']}  {e['dataset']}@{e['version']} {e['split']:5} {e['format']:4}"
                f" mAP50 {_score(s['map50'])}  mAP50-95 {_score(s['map50_95'])}"
                f"  (coco · {plural(s['images'], 'image')})",
                markup=False,
            )

    done(rows, json_, human)


@models.command("report")
def report(
    evaluation: Annotated[str, typer.Argument(help="Evaluation id.")],
    pictures: Annotated[
        Path | None, typer.Option(help="Save the PR curves and confusion matrix (SVG) here.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """One evaluation: per-class AP, precision and recall; the worst images."""
    r = api(lambda c: c.evaluation(evaluation), json_)
    if pictures is not None:
        charts = api(
            lambda c: {n: c.evaluation_picture(evaluation, n) for n in r["pictures"]}, json_
        )
        try:
            with Destination.open(pictures) as folder:
                for name, data in charts.items():
                    folder.write(check_filename(name), [data])
        except ApplianceError as exc:
            raise fail(exc, json_) from None

    def human() -> None:
        rep = r["report"]
        out.print(
            f"{r['model']}@{r['model_version']} ({r['format']}) on {r['dataset']}@{r['version']}"
            f" {r['split']}: mAP50 {_score(rep['map50'])}, mAP50-95 {_score(rep['map50_95'])}",
            markup=False,
        )
        stats = rep.get("coco") or {}
        for row in (STATS[:6], STATS[6:]):
            out.print(
                "  " + "  ".join(f"{COCO_STATS_LABELS[k]} {_score(stats.get(k))}" for k in row),
                markup=False,
            )
        out.print(f"  {'class':20} {'gt':>5} {'AP50':>6} {'AP50-95':>8} {'P':>6} {'R':>6}")
        for c in rep["per_class"]:
            out.print(
                f"  {c['name'][:20]:20} {c['num_gt']:5} {_score(c['ap50']):>6}"
                f" {_score(c['ap50_95']):>8} {_score(c['precision']):>6} {_score(c['recall']):>6}",
                markup=False,
            )
        worst = rep["errors"][:5]
        if worst:
            out.print("  most errors (false positives / misses / wrong class):")
        for e in worst:
            counts = f"{len(e['false_positives'])}/{len(e['misses'])}/{len(e['misclassified'])}"
            out.print(f"    {e['image_id']}  {counts}", markup=False)
        if pictures is not None:
            out.print(f"  charts saved in {pictures}", markup=False)

    done(r, json_, human)


@models.command("compare")
def compare(
    refs: Annotated[list[str], typer.Argument(help="Two or more model versions: name@ref.")],
    dataset: Dataset = None,
    version: Version = None,
    split: Split = None,
    json_: JsonOpt = False,
) -> None:
    """Model versions side by side on the same data: per-class AP50-95, who wins."""
    r = api(lambda c: c.compare_models(refs, dataset=dataset, version=version, split=split), json_)

    def human() -> None:
        d = r["data"]
        out.print(f"on {measurement.describe(d)}", markup=False)
        heads = [f"{m['model']}@{m['version']}" for m in r["models"]]
        out.print(f"  {'class':20} " + " ".join(f"{h[:14]:>14}" for h in heads), markup=False)
        for c in r["classes"]:
            cells = [
                f"{_score(s):>13}" + ("*" if i in c["winners"] else " ")
                for i, s in enumerate(c["ap50_95"])
            ]
            out.print(f"  {c['name'][:20]:20} " + " ".join(cells), markup=False)
        cells = [f"{_score(m['map50_95']):>14}" for m in r["models"]]
        out.print(f"  {'mAP50-95':20} " + " ".join(cells), markup=False)
        best = [r["models"][i] for i in r.get("winners") or [r["winner"]]]
        refs = ", ".join(f"{m['model']}@{m['version']}" for m in best)
        out.print(f"  {'tied ' if len(best) > 1 else ''}best overall: {refs}", markup=False)

    done(r, json_, human)
