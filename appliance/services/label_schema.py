"""Setting a dataset's label schema without silently re-meaning its labels.

A label object stores a class id and the schema names it, so a new schema that
gives a used id another name (or none) would turn every such object into another
class. That change is refused (``SchemaChangeRefused``, naming each class and
how many objects use it) unless the caller maps each affected id: old id → new
id, or drop. A mapping rewrites the working area's label documents through
``label_edit.save_many`` (review state back to in_progress, activity recorded),
in the same transaction that stores the schema; the next commit's diff shows the
objects as reclassed (or removed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from appliance.domain.labels.document import LabelError
from appliance.domain.labels.schema import PRESETS, LabelSchema, schema_from_dict, schema_to_dict
from appliance.domain.labels.schema_change import (
    affected_classes,
    class_usage,
    mapping_problems,
    may_change_meaning,
    read_mapping,
    remap,
    suggested_mapping,
)
from appliance.domain.manifest import WorkingFile
from appliance.domain.records import Dataset
from appliance.errors import Conflict, InvalidInput, SchemaChangeRefused
from appliance.ports.catalog import UnitOfWork
from appliance.services.context import ServiceContext
from appliance.services.label_edit import Change, save_many
from appliance.services.labels import read_labels


@dataclass(frozen=True)
class SchemaSet:
    schema: LabelSchema
    files: int = 0  # working-area files whose labels a mapping rewrote
    reclassed: int = 0  # objects moved to another class
    dropped: int = 0  # objects removed

    def relabelled(self) -> dict[str, int]:
        return {"files": self.files, "reclassed": self.reclassed, "dropped": self.dropped}


async def set_schema(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    actor: str,
    *,
    preset: str | None = None,
    schema: dict[str, object] | None = None,
    coco_categories: list[dict[str, object]] | None = None,
    coco_top: dict[str, object] | None = None,
    mapping: Mapping[Any, Any] | None = None,
) -> SchemaSet:
    """From a preset name (see ``PRESETS``) or a ``{classes, skeletons}`` document;
    ``mapping`` ({old id: new id or "drop"}) says where existing labels go."""
    chosen = _chosen(preset, schema)
    try:
        moves = read_mapping(mapping or {})
    except LabelError as exc:
        raise InvalidInput(str(exc), hint='a mapping is {"3": 5, "7": "drop"}') from None
    stored = schema_to_dict(chosen)
    if coco_categories:  # a COCO import's own categories, so export writes them back
        stored["coco_categories"] = coco_categories
    if coco_top:  # and its info, licenses and other top-level keys
        stored["coco_top"] = coco_top
    async with ctx.catalog.reading(ws) as uow:
        raw_old = await uow.labels.schema((await uow.datasets.get(slug)).id)
    old = schema_from_dict(raw_old) if raw_old else None
    if not moves and not may_change_meaning(old, chosen):
        async with ctx.catalog.writing(ws) as uow:
            ds = await uow.datasets.get(slug)
            await _store(uow, ds, raw_old, stored, actor, len(chosen.classes))
        return SchemaSet(chosen)
    async with ctx.catalog.reading(ws) as uow:
        working = await uow.files.working((await uow.datasets.get(slug)).id)
    labelled = {n: w.label_sha256 for n, w in working.items() if w.label_sha256}
    docs = await asyncio.to_thread(read_labels, ctx, ws, set(labelled.values()))
    used = class_usage(docs.values())
    if problems := mapping_problems(old, chosen, used, moves):
        raise InvalidInput("; ".join(problems), hint="map ids the labels use to classes it has")
    if affected := affected_classes(old, chosen, used, moves):
        raise SchemaChangeRefused(
            slug,
            [a.as_dict() for a in affected],
            [a.describe() for a in affected],
            suggested_mapping(affected),
        )
    changes: list[Change] = []
    reclassed = dropped = 0
    for name, sha in sorted(labelled.items()):
        doc = docs[sha]
        new = remap(doc, moves)
        if new != doc:
            changes.append(Change.of(name, new))
            to = [moves[o.cls] for o in doc.objects if o.cls in moves]
            dropped += to.count(None)
            reclassed += sum(1 for o in doc.objects if moves.get(o.cls, o.cls) not in (o.cls, None))

    async def check(uow: UnitOfWork, ds: Dataset, _: Mapping[str, WorkingFile]) -> None:
        now = await uow.files.working(ds.id)
        if {n: w.label_sha256 for n, w in now.items() if w.label_sha256} != labelled:
            raise Conflict(
                f"labels of {slug!r} changed while its schema was being changed",
                hint="run the schema change again",
            )
        await _store(uow, ds, raw_old, stored, actor, len(chosen.classes))

    detail = {"mapping": {str(k): v for k, v in moves.items()}, "dropped": dropped}
    await save_many(ctx, ws, slug, changes, actor, action="reclass", check=check, detail=detail)
    return SchemaSet(chosen, len(changes), reclassed, dropped)


def _chosen(preset: str | None, schema: dict[str, object] | None) -> LabelSchema:
    if (preset is None) == (schema is None):
        raise InvalidInput("give either a preset or a schema", hint=f"presets: {sorted(PRESETS)}")
    if preset is not None:
        if preset not in PRESETS:
            raise InvalidInput(
                f"preset {preset!r} is not known", hint=f"use one of {sorted(PRESETS)}"
            )
        return PRESETS[preset]()
    try:
        return schema_from_dict(schema or {})
    except ValueError as exc:
        raise InvalidInput(str(exc), hint="see docs/api.md for the schema shape") from None


async def _store(
    uow: UnitOfWork,
    ds: Dataset,
    expected: dict[str, Any] | None,
    stored: dict[str, Any],
    actor: str,
    classes: int,
) -> None:
    """Store the schema, unless another change got in since it was read (that one
    was checked against the labels, this one was checked against the one before)."""
    if await uow.labels.schema(ds.id) != expected:
        raise Conflict(
            f"the schema of {ds.slug!r} changed while this change was being checked",
            hint="look at it (`ahoy dataset schema`) and run the change again",
        )
    await uow.labels.set_schema(ds.id, stored, actor)
    await uow.audit.record(actor, "dataset.schema", ds.slug, classes=classes)
