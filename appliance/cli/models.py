"""`ahoy model ...`: the registry — list, show, lineage, register weights, promote."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done
from appliance.cli.output import out, value_text
from appliance.domain import measurement, parity
from appliance.domain.wording import plural

models = typer.Typer(help="Trained and uploaded models, with their lineage.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Model name.")]
Ref = Annotated[str, typer.Argument(help="Version: number, vN, tag or latest.")]


def _line(v: dict[str, Any]) -> str:
    """One version; a figure always with its measurement (who, split, images,
    data): trained weights' own validation and an export's COCO evaluation are
    different measurements."""
    tags = f" [{', '.join(v['tags'])}]" if v.get("tags") else ""
    m = v.get("metrics") or {}
    score = ""
    if m.get("map50_95") is not None:
        score = f" mAP50-95 {m['map50_95']:.3f} ({measurement.describe(measurement.of(m))})"
    fmt = v.get("format", "pt")
    line = f"v{v['number']}{tags}  {v['source']:6} {fmt:4} {v['weights_sha256'][:12]}{score}"
    if m.get("parity"):
        line += f"\n      {parity.describe(m['parity'])} (vs v{v.get('parent')})"
    return line


@models.command("list")
def model_list(json_: JsonOpt = False) -> None:
    """Models of this workspace, with their latest version and tags."""
    rows = api(lambda c: c.list_models(), json_)

    def human() -> None:
        if not rows:
            out.print("no models")
        for m in rows:
            tags = ", ".join(f"{t}=v{n}" for t, n in m["tags"].items())
            out.print(f"{m['name']:24} {m['task']:9} v{m['latest']}  {tags}", markup=False)

    done(rows, json_, human)


@models.command("show")
def model_show(name: Name, json_: JsonOpt = False) -> None:
    """A model's versions, newest first."""
    m = api(lambda c: c.model(name), json_)

    def human() -> None:
        out.print(f"{m['name']} ({m['task']})", markup=False)
        for v in m["versions"]:
            out.print("  " + _line(v), markup=False)

    done(m, json_, human)


@models.command("lineage")
def model_lineage(name: Name, ref: Ref = "latest", json_: JsonOpt = False) -> None:
    """What exact data, code and run made this model version."""
    lin = api(lambda c: c.model_lineage(name, ref), json_)

    def human() -> None:
        out.print(f"{name} {_line(lin['model'])}", markup=False)
        data = lin.get("data")
        if data:
            out.print(
                f"data: {data['dataset']}@{data['number']} manifest {data['manifest_hash']}"
                f" ({plural(data['file_count'], 'file')}) — `ahoy dataset pull {data['dataset']}"
                f" DIR -v {data['number']}` rebuilds it: files, label documents and split,"
                " every hash verified (DIR/.ahoy/manifest.json)",
                markup=False,
            )
        else:
            out.print("data: none recorded (uploaded weights)")
        if lin.get("run"):
            out.print(f"run: job {lin['run']['id']} ({lin['run']['state']})", markup=False)
        if lin.get("code"):
            out.print(f"code: {value_text('code', lin['code'])}", markup=False)

    done(lin, json_, human)


@models.command("register")
def model_register(
    name: Name,
    weights: Annotated[Path, typer.Argument(help="Weights file (.pt) to upload.", exists=True)],
    task: Annotated[str, typer.Option(help="detect, segment, pose or classify.")] = "detect",
    json_: JsonOpt = False,
) -> None:
    """Upload weights (e.g. a pretrained checkpoint) as a new version of a model."""
    data = weights.read_bytes()
    sha = hashlib.sha256(data).hexdigest()

    def call(c: Any) -> dict[str, Any]:
        c.put_blob(None, sha, data)
        return dict(c.register_model(name, task, sha))

    mv = api(call, json_)
    done(mv, json_, lambda: out.print(f"registered {name} {_line(mv)}", markup=False))


@models.command("promote")
def model_promote(
    name: Name,
    ref: Ref,
    tag: Annotated[str, typer.Option(help="Tag to set.")] = "production",
    accept_unmeasured: Annotated[
        bool,
        typer.Option(
            help="Promote an export whose parity was measured on too little data to decide"
            " (admins; audited)."
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Point a tag (production by default) at a model version; audited. An export
    must have passed its parity gate."""
    mv = api(lambda c: c.promote_model(name, ref, tag, accept_unmeasured=accept_unmeasured), json_)
    done(mv, json_, lambda: out.print(f"{name} {_line(mv)}", markup=False))
