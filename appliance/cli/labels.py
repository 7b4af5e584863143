"""`ahoy dataset import-yolo|export|schema|stats`: labelled data in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done, fail, want_json
from appliance.cli.dataset import Name, app
from appliance.cli.output import BarProgress, err, out
from appliance.domain.labels.document import LabelError
from appliance.domain.labels.schema_change import parse_map_option
from appliance.domain.wording import plural
from appliance.errors import InvalidInput
from appliance.sdk import coco, yolo

MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Where existing labels of a class go if the new classes change what its id"
        " means: OLD=NEW, or OLD=drop (repeat the option).",
    ),
]


def _mapping(items: list[str] | None) -> dict[int, int | None]:
    try:
        return dict(parse_map_option(i) for i in items or [])
    except LabelError as exc:
        raise fail(InvalidInput(str(exc), hint="e.g. --map 3=5 --map 7=drop")) from None


@app.command("import-yolo")
def import_yolo(
    source: Annotated[
        Path,
        typer.Argument(
            help="A YOLO folder: data.yaml, images/, labels/ (or classify: <split>/<class>/)."
        ),
    ],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset to import into.")],
    map_: MapOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Import a YOLO dataset (detect, segment, pose, or classify folders) with its
    labels; a bad label file refuses the whole import, listing each file and line.
    Class ids stay as data.yaml numbers them; images go to the dataset's own
    content-hash split (the import says how many leave their folder's split)."""
    mapping = _mapping(map_)
    bar = BarProgress(not want_json(json_))
    r = api(lambda c: yolo.import_yolo(c, None, dataset, source, bar, mapping), json_)

    def human() -> None:
        out.print(
            f"imported {plural(r['images'], 'image')} ({r['labelled']} labelled) into {dataset}: "
            f"{r['added']} added, {r['updated']} changed, {r['unchanged']} unchanged"
        )
        _schema_line(dataset, r.get("schema"))
        _split_lines(r.get("split"))

    done(r, json_, human)


@app.command("import-coco")
def import_coco(
    annotations: Annotated[Path, typer.Argument(help="The COCO annotations JSON.")],
    images: Annotated[Path, typer.Option(help="Folder holding the images it names.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset to import into.")],
    map_: MapOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Import a COCO dataset (boxes, polygons, RLE, keypoints); any problem in the
    JSON refuses the whole import, each named with where it is."""
    mapping = _mapping(map_)
    bar = BarProgress(not want_json(json_))
    r = api(lambda c: coco.import_coco(c, None, dataset, annotations, images, bar, mapping), json_)

    def human() -> None:
        out.print(
            f"imported {plural(r['images'], 'image')}, {plural(r['annotations'], 'annotation')} in "
            f"{plural(r['categories'], 'category')} into {dataset}"
        )
        _schema_line(dataset, r.get("schema"))

    done(r, json_, human)


def _schema_line(dataset: str, s: dict[str, Any] | None) -> None:
    if not s:
        return
    if s.get("changed"):
        out.print(f"schema of {dataset}: now {plural(s['classes'], 'class')}")
    _relabelled_line(s.get("relabelled"))


def _relabelled_line(r: dict[str, Any] | None) -> None:
    if r and r.get("files"):
        out.print(
            f"relabelled {plural(r['files'], 'file')}: "
            f"{plural(r['reclassed'], 'object')} reclassed, "
            f"{r['dropped']} dropped (back to in_progress for review)"
        )


def _split_lines(s: dict[str, Any] | None) -> None:
    if not s or not s.get("moved"):
        return
    moves = ", ".join(f"{k} {n}" for k, n in s["moves"].items())
    total = s["moved"] + s["kept"]
    out.print(
        f"split: the dataset's content-hash split ({s['split']}) keeps {s['kept']} of"
        f" {plural(total, 'image')} in their folder's split; {s['moved']}"
        f" {'moves' if s['moved'] == 1 else 'move'} ({moves}) at the next commit"
        " (why: docs/data-engine.md, Split)",
        markup=False,
    )


@app.command("export")
def export(
    name: Name,
    dest: Annotated[Path, typer.Argument(help="Folder to write the export in.")],
    version: Annotated[str, typer.Option("--version", "-v", help="Number or tag.")] = "latest",
    format_: Annotated[str, typer.Option("--format", help="'yolo' or 'coco'.")] = "yolo",
    task: Annotated[str, typer.Option(help="detect, segment, pose or classify.")] = "detect",
    split: Annotated[str | None, typer.Option(help="Only this split.")] = None,
    force: Annotated[bool, typer.Option(help="Write into a non-empty folder.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Write a version as a YOLO dataset in its frozen split (data.yaml, images, labels)
    or as COCO (annotations.json and images/). A YOLO export of a version without
    val images is written with a warning: Ultralytics cannot train on it as it is."""
    r = api(
        lambda c: yolo.export_yolo(
            c, None, name, version, dest, task=task, split=split, force=force, format=format_
        ),
        json_,
    )
    done(
        r,
        json_,
        lambda: out.print(f"exported {name} v{version}: {plural(r['files'], 'file')} in {dest}"),
    )
    for warning in r.get("warnings") or []:
        err.print(f"warning: {warning}", markup=False)


@app.command("schema")
def schema(
    name: Name,
    preset: Annotated[str | None, typer.Option(help="Set a preset, e.g. weather-17x3.")] = None,
    map_: MapOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Show the dataset's label classes, or set them from a preset. A change that
    would make existing labels read as other classes is refused unless --map says
    where each affected class goes (the working area's labels are rewritten)."""
    mapping = _mapping(map_)
    if mapping and not preset:
        raise fail(InvalidInput("--map goes with a schema change", hint="add --preset NAME"))
    r: dict[str, Any] = api(
        lambda c: (
            c.set_schema(None, name, preset=preset, mapping=mapping)
            if preset
            else c.get_schema(None, name)
        ),
        json_,
    )

    def human() -> None:
        used = [c for c in r.get("classes", []) if not c.get("reserved")]
        out.print(f"{name}: {len(used)} classes in {len(r.get('classes', []))} slots")
        for c in used:
            out.print(f"  {c['id']:>4}  {c['name']}", markup=False)
        _relabelled_line(r.get("relabelled"))

    done(r, json_, human)


@app.command("stats")
def stats(
    name: Name,
    version: Annotated[str, typer.Option("--version", "-v", help="Number or tag.")] = "latest",
    json_: JsonOpt = False,
) -> None:
    """Objects per class and split, unlabelled images and label-quality warnings."""
    r: dict[str, Any] = api(lambda c: c.label_stats(None, name, version), json_)

    def human() -> None:
        out.print(
            f"{name} v{version}: {plural(r['images'], 'image')}, {plural(r['objects'], 'object')}, "
            f"{r['unlabelled_images']} unlabelled, {plural(len(r['warnings']), 'warning')}"
        )
        for c in r["per_class"]:
            splits = ", ".join(f"{s} {n}" for s, n in sorted(c["per_split"].items()))
            out.print(f"  {c['name']:<24} {c['objects']:>7}  ({splits})", markup=False)

    done(r, json_, human)
