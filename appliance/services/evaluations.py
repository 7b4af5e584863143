"""Reading evaluations back: a model version's list, one report with its pictures,
and a side-by-side comparison of model versions measured on the same data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from appliance.domain.measurement import COCO
from appliance.domain.records import Evaluation
from appliance.errors import InvalidInput, NotFound
from appliance.services.context import ServiceContext

PICTURES = ("pr_curves.svg", "confusion.svg", "confusion_normalized.svg")


async def of_version(ctx: ServiceContext, ws: str, name: str, ref: str) -> list[Evaluation]:
    async with ctx.catalog.reading(ws) as uow:
        model = await uow.models.get(name)
        mv = await uow.models.version(model["id"], ref)
        return await uow.evaluations.of(mv["id"])


async def _artifact(ctx: ServiceContext, ws: str, evaluation: Evaluation, name: str) -> bytes:
    label = evaluation["settings"].get("artifacts", evaluation["format"])
    wanted = f"{label}/{name}"
    async with ctx.catalog.reading(ws) as uow:
        found = [a for a in await uow.jobs.artifacts(evaluation["job"]) if a["name"] == wanted]
    if not found:
        raise NotFound("evaluation artifact", f"{evaluation['id']}/{name}")
    return await asyncio.to_thread(ctx.blobs.read, ws, found[0]["sha256"])


async def report(ctx: ServiceContext, ws: str, evaluation_id: str) -> dict[str, Any]:
    """The evaluation and its full report: per class with PR curves, the confusion
    matrix, the images with the most errors."""
    async with ctx.catalog.reading(ws) as uow:
        evaluation = await uow.evaluations.get(evaluation_id)
    full = json.loads(await _artifact(ctx, ws, evaluation, "evaluation.json"))
    return {**evaluation, "report": full, "pictures": list(PICTURES)}


async def picture(ctx: ServiceContext, ws: str, evaluation_id: str, name: str) -> bytes:
    if name not in PICTURES:
        raise NotFound("picture", name, hint=f"one of {', '.join(PICTURES)}")
    async with ctx.catalog.reading(ws) as uow:
        evaluation = await uow.evaluations.get(evaluation_id)
    return await _artifact(ctx, ws, evaluation, name)


async def compare(
    ctx: ServiceContext,
    ws: str,
    refs: list[str],
    dataset: str | None = None,
    version: str | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """Model versions side by side on data they were all measured on (the named
    dataset version and split, else the latest such data they share): per class
    AP50-95 and which wins; with the data each was trained on."""
    if len(refs) < 2:
        raise InvalidInput("compare needs two or more model versions", hint="e.g. a@1 b@3")
    rows = []
    async with ctx.catalog.reading(ws) as uow:
        wanted_version = None
        if dataset is not None:
            ds = await uow.datasets.get(dataset)
            wanted_version = (await uow.versions.get(ds.id, version or "latest")).id
        for ref in refs:
            name, _, at = ref.partition("@")
            model = await uow.models.get(name)
            mv = await uow.models.version(model["id"], at or "latest")
            data_id = mv["dataset_version_id"]
            trained = await uow.versions.by_id(data_id) if data_id is not None else None
            rows.append((mv, await uow.evaluations.of(mv["id"]), trained))
        slugs = {d.id: d.slug for d, _, _ in await uow.datasets.list()}
    keys = [
        {(e["dataset_version_id"], e["split"]) for e in evals if _wanted(e, wanted_version, split)}
        for _, evals, _ in rows
    ]
    shared = set.intersection(*keys) if keys else set()
    if not shared:
        raise InvalidInput(
            "these model versions were not all evaluated on the same data",
            hint="evaluate each on one dataset version and split (`ahoy model evaluate"
            " NAME@REF --dataset D --version V`), then compare",
        )
    newest = max(
        (e for e in rows[0][1] if (e["dataset_version_id"], e["split"]) in shared),
        key=lambda e: e["created_at"],
    )
    key = (newest["dataset_version_id"], newest["split"])
    entries = [
        max(
            (e for e in evals if (e["dataset_version_id"], e["split"]) == key),
            key=lambda e: e["created_at"],
        )
        for _, evals, _ in rows
    ]
    return _table(rows, entries, slugs)


def _wanted(e: Evaluation, version_id: int | None, split: str | None) -> bool:
    return (version_id is None or e["dataset_version_id"] == version_id) and (
        split is None or e["split"] == split
    )


def _table(rows: list[Any], entries: list[Evaluation], slugs: dict[int, str]) -> dict[str, Any]:
    models = []
    for (mv, _, trained), e in zip(rows, entries, strict=True):
        models.append(
            {
                "model": mv["model"],
                "version": mv["number"],
                "format": mv["format"],
                "tags": mv["tags"],
                "trained_on": (
                    {"dataset": slugs.get(trained.dataset_id), "version": trained.number}
                    if trained
                    else None
                ),
                "evaluation": e["id"],
                "map50": e["summary"]["map50"],
                "map50_95": e["summary"]["map50_95"],
            }
        )
    classes: dict[int, dict[str, Any]] = {}
    for i, e in enumerate(entries):
        for c in e["summary"]["per_class"]:
            if c["ap50_95"] is None:
                continue
            row = classes.setdefault(
                c["class_id"], {"class_id": c["class_id"], "name": c["name"], "ap50_95": {}}
            )
            row["ap50_95"][i] = c["ap50_95"]
    table = []
    for row in sorted(classes.values(), key=lambda r: r["class_id"]):
        scores = [row["ap50_95"].get(i) for i in range(len(entries))]
        best = max((s for s in scores if s is not None), default=None)
        winners = [i for i, s in enumerate(scores) if s is not None and s == best]
        table.append({**row, "ap50_95": scores, "winners": winners})
    overall = [m["map50_95"] or 0.0 for m in models]
    first = entries[0]
    return {
        # one measurement for every column: the appliance's COCO evaluation of this data
        "data": {
            "dataset": first["dataset"],
            "version": first["version"],
            "split": first["split"],
            "by": COCO,
            "images": first["summary"]["images"],
        },
        "models": models,
        "classes": table,
        # the first of the best (kept for older clients), and every model tied with it
        "winner": overall.index(max(overall)),
        "winners": [i for i, s in enumerate(overall) if s == max(overall)],
    }
