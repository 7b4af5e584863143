"""`ahoy dataset import-yolo|export|schema|stats`: labelled data in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done, want_json
from appliance.cli.dataset import Name, app
from appliance.cli.output import BarProgress, out
from appliance.sdk import coco, yolo


@app.command("import-yolo")
def import_yolo(
    source: Annotated[
        Path,
        typer.Argument(
            help="A YOLO folder: data.yaml, images/, labels/ (or classify: <split>/<class>/)."
        ),
    ],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset to import into.")],
    json_: JsonOpt = False,
) -> None:
    """Import a YOLO dataset (detect, segment, pose, or classify folders) with its
    labels; a bad label file refuses the whole import, listing each file and line."""
    bar = BarProgress(not want_json(json_))
    r = api(lambda c: yolo.import_yolo(c, None, dataset, source, bar), json_)
    done(
        r,
        json_,
        lambda: out.print(
            f"imported {r['images']} images ({r['labelled']} labelled) into {dataset}: "
            f"{r['added']} added, {r['updated']} changed, {r['unchanged']} unchanged"
        ),
    )


@app.command("import-coco")
def import_coco(
    annotations: Annotated[Path, typer.Argument(help="The COCO annotations JSON.")],
    images: Annotated[Path, typer.Option(help="Folder holding the images it names.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset to import into.")],
    json_: JsonOpt = False,
) -> None:
    """Import a COCO dataset (boxes, polygons, RLE, keypoints); any problem in the
    JSON refuses the whole import, each named with where it is."""
    bar = BarProgress(not want_json(json_))
    r = api(lambda c: coco.import_coco(c, None, dataset, annotations, images, bar), json_)
    done(
        r,
        json_,
        lambda: out.print(
            f"imported {r['images']} images, {r['annotations']} annotations in "
            f"{r['categories']} categories into {dataset}"
        ),
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
    or as COCO (annotations.json and images/)."""
    r = api(
        lambda c: yolo.export_yolo(
            c, None, name, version, dest, task=task, split=split, force=force, format=format_
        ),
        json_,
    )
    done(r, json_, lambda: out.print(f"exported {name} v{version}: {r['files']} files in {dest}"))


@app.command("schema")
def schema(
    name: Name,
    preset: Annotated[str | None, typer.Option(help="Set a preset, e.g. weather-17x3.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Show the dataset's label classes, or set them from a preset."""
    r: dict[str, Any] = api(
        lambda c: c.set_schema(None, name, preset=preset) if preset else c.get_schema(None, name),
        json_,
    )

    def human() -> None:
        used = [c for c in r.get("classes", []) if not c.get("reserved")]
        out.print(f"{name}: {len(used)} classes in {len(r.get('classes', []))} slots")
        for c in used:
            out.print(f"  {c['id']:>4}  {c['name']}", markup=False)

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
            f"{name} v{version}: {r['images']} images, {r['objects']} objects, "
            f"{r['unlabelled_images']} unlabelled, {len(r['warnings'])} warnings"
        )
        for c in r["per_class"]:
            splits = ", ".join(f"{s} {n}" for s, n in sorted(c["per_split"].items()))
            out.print(f"  {c['name']:<24} {c['objects']:>7}  ({splits})", markup=False)

    done(r, json_, human)
