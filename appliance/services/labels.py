"""Label schemas (setting one: ``label_schema``), label statistics, and a version
exported as a YOLO or COCO dataset."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

from appliance.domain.diff import ManifestDiff
from appliance.domain.labels import classify
from appliance.domain.labels.coco import CocoCategory, categories_from_names, documents_to_coco
from appliance.domain.labels.diff import diff_labels
from appliance.domain.labels.document import LabelDocument, LabelError, parse_document
from appliance.domain.labels.schema import LabelSchema, schema_from_dict, schema_from_names
from appliance.domain.labels.stats import DatasetStats, dataset_stats
from appliance.domain.labels.yolo import TASKS, YoloSpec, format_yolo
from appliance.domain.manifest import ManifestRow
from appliance.errors import ImportRejected, InvalidInput
from appliance.ingest.image_size import image_size
from appliance.services.archive import ArchivePlan, tar_chunks
from appliance.services.archive import plan as archive_plan
from appliance.services.context import ServiceContext
from appliance.services.versions import manifest


async def get_schema(ctx: ServiceContext, ws: str, slug: str) -> LabelSchema | None:
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        raw = await uow.labels.schema(ds.id)
    return schema_from_dict(raw) if raw else None


async def coco_extras(ctx: ServiceContext, ws: str, slug: str) -> dict[str, object]:
    """What a COCO import kept beside the schema: ``categories`` and ``top``."""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        raw = await uow.labels.schema(ds.id) or {}
    return {"categories": raw.get("coco_categories") or [], "top": raw.get("coco_top")}


def read_labels(ctx: ServiceContext, ws: str, digests: set[str]) -> dict[str, LabelDocument]:
    """Blocking: the label documents by digest (they were validated when staged)."""
    return {
        sha: parse_document(json.loads(data), sha)
        for sha, data in ctx.blobs.read_many(ws, list(digests))
    }


async def stats(ctx: ServiceContext, ws: str, slug: str, ref: str) -> dict[str, object]:
    """The version's label statistics; every class of the schema is counted (a
    class without objects is the first warning), and each warning about a file
    names its split, content and labels, so a client can show that image."""
    _, rows = await manifest(ctx, ws, slug, ref)
    schema = await get_schema(ctx, ws, slug)
    images = [r for r in rows if r.role == "image"]
    docs = await asyncio.to_thread(
        read_labels, ctx, ws, {r.label_sha256 for r in images if r.label_sha256}
    )
    result: DatasetStats = dataset_stats(
        (r.filename, r.split, docs.get(r.label_sha256) if r.label_sha256 else None) for r in images
    )
    classes = {c.id: c.name for c in schema.classes if not c.reserved} if schema else None
    answer = result.as_dict(schema.names() if schema else None, classes)
    by_name = {r.filename: r for r in images}
    for w in cast(list[dict[str, Any]], answer["warnings"]):
        if (row := by_name.get(w["filename"])) is not None:
            w.update(split=row.split, sha256=row.sha256, label_sha256=row.label_sha256)
    return answer


@dataclass(frozen=True)
class YoloExport:
    archive: ArchivePlan
    schema: LabelSchema
    spec: YoloSpec
    docs: dict[str, LabelDocument]

    def doc_of(self, row: ManifestRow) -> LabelDocument | None:
        return self.docs.get(row.label_sha256) if row.label_sha256 else None

    def image_name(self, row: ManifestRow) -> str:
        if self.spec.task == "classify":
            return classify.member_name(row.filename, row.split, self.doc_of(row)) or ""
        return f"images/{row.split}/{row.filename}"

    def label_name(self, row: ManifestRow) -> str:
        stem = row.filename.rsplit(".", 1)[0]
        return f"labels/{row.split}/{stem}.txt"

    def warning(self, slug: str) -> str | None:
        """What a whole export of a version without val images must say: its
        data.yaml names no ``val:``, and Ultralytics cannot train on that."""
        splits = {r.split for r in self.archive.rows}
        if not splits or "val" in splits:
            return None
        return (
            f"{slug}@{self.archive.version.number} has no val images: data.yaml names only "
            f"{', '.join(sorted(splits))}, and Ultralytics cannot train on it until it has"
            f" a val split (commit with e.g. --split train=0.8,val=0.1,test=0.1)"
        )

    def data_yaml(self) -> str:
        splits = sorted({r.split for r in self.archive.rows})
        lines = ["path: ."]
        if "val" not in splits:
            lines.append("# no val images: add a val split before training with Ultralytics")
        lines += [f"{s}: images/{s}" for s in splits]
        if self.spec.kpt_shape:
            lines.append(f"kpt_shape: [{self.spec.kpt_shape[0]}, {self.spec.kpt_shape[1]}]")
        lines.append("names:")
        lines += [f"  {i}: {json.dumps(n)}" for i, n in enumerate(self.schema.names())]
        return "\n".join(lines) + "\n"


async def plan_yolo(
    ctx: ServiceContext, ws: str, slug: str, ref: str, task: str, split: str | None
) -> YoloExport:
    if task not in (*TASKS, "classify"):
        raise InvalidInput(f"task {task!r} is not known", hint=f"use one of {TASKS} or classify")
    plan = await archive_plan(ctx, ws, slug, ref, split, "tree")
    images = [r for r in plan.rows if r.role == "image"]
    plan = ArchivePlan(plan.version, images, plan.sizes, "tree")
    docs = await asyncio.to_thread(
        read_labels, ctx, ws, {r.label_sha256 for r in images if r.label_sha256}
    )
    schema = await get_schema(ctx, ws, slug)
    if schema is None:  # no schema yet: classes are named by their ids
        top = max((o.cls for d in docs.values() for o in d.objects), default=0)
        schema = schema_from_names([str(i) for i in range(top + 1)])
    kpt = (17, 3) if task == "pose" else None
    export = YoloExport(plan, schema, YoloSpec(task, schema.slots, kpt), docs)
    if task == "classify":
        rows = [(r.filename, export.doc_of(r)) for r in images]
        problems = classify.export_problems(rows)
        if problems:
            raise ImportRejected(problems)
    return export


def yolo_chunks(ctx: ServiceContext, ws: str, export: YoloExport) -> Iterator[bytes]:
    """The export as a tar: data.yaml, images/<split>/..., labels/<split>/....txt."""

    if export.spec.task == "classify":  # <split>/<class>/<image>; unclassified left out
        rows = [r for r in export.archive.rows if export.image_name(r)]
        plan = ArchivePlan(export.archive.version, rows, export.archive.sizes, "tree")
        return tar_chunks(ctx, ws, plan, name_of=export.image_name)

    def label_file(row: ManifestRow) -> list[tuple[str, bytes]]:
        doc = export.docs.get(row.label_sha256) if row.label_sha256 else None
        if doc is None:
            return []
        return [(export.label_name(row), format_yolo(doc, export.spec).encode())]

    return tar_chunks(
        ctx,
        ws,
        export.archive,
        name_of=export.image_name,
        head=[("data.yaml", export.data_yaml().encode())],
        extra=label_file,
    )


def image_sizes(ctx: ServiceContext, ws: str, export: YoloExport) -> dict[str, tuple[int, int]]:
    """Blocking: the size (from the image header) of each labelled image whose
    label document has none (a YOLO import before sizes were kept, or the studio)."""
    wanted: dict[str, list[str]] = {}
    for row in export.archive.rows:
        doc = export.doc_of(row)
        if doc is not None and doc.size is None:
            wanted.setdefault(row.sha256, []).append(row.filename)
    sizes: dict[str, tuple[int, int]] = {}
    for sha, data in ctx.blobs.read_many(ws, list(wanted)):
        if (size := image_size(data)) is not None:
            sizes.update(dict.fromkeys(wanted[sha], size))
    return sizes


def coco_document(
    export: YoloExport, extras: dict[str, Any], sizes: dict[str, tuple[int, int]] | None = None
) -> dict[str, Any]:
    """The version's COCO annotations; raises InvalidInput before anything streams.
    ``sizes`` (file name → width, height) fills in documents that lack one."""
    categories = extras.get("categories") or []
    cats = (
        tuple(_category(c) for c in categories)
        if categories
        else categories_from_names(export.schema.names())
    )
    docs = {
        row.filename: _sized(export.docs[row.label_sha256], (sizes or {}).get(row.filename))
        for row in export.archive.rows
        if row.label_sha256 and row.label_sha256 in export.docs
    }
    try:
        return documents_to_coco(docs, cats, top=extras.get("top"))
    except LabelError as exc:
        raise InvalidInput(f"this version cannot be written as COCO: {exc}") from None


def _sized(doc: LabelDocument, size: tuple[int, int] | None) -> LabelDocument:
    return replace(doc, size=size) if doc.size is None and size is not None else doc


def coco_chunks(
    ctx: ServiceContext, ws: str, export: YoloExport, coco: dict[str, Any]
) -> Iterator[bytes]:
    """The export as a tar: annotations.json and images/<filename>."""
    head = [("annotations.json", json.dumps(coco, indent=1).encode())]
    return tar_chunks(
        ctx, ws, export.archive, name_of=lambda row: f"images/{row.filename}", head=head
    )


def _category(raw: dict[str, object]) -> CocoCategory:
    known = {"id", "name", "supercategory", "keypoints", "skeleton"}
    kp = raw.get("keypoints")
    sk = raw.get("skeleton")
    return CocoCategory(
        int(raw["id"]),  # type: ignore[call-overload]
        str(raw["name"]),
        raw.get("supercategory"),  # type: ignore[arg-type]
        tuple(kp) if isinstance(kp, list) else None,
        tuple(tuple(e) for e in sk) if isinstance(sk, list) else None,  # type: ignore[misc]
        {k: v for k, v in raw.items() if k not in known},
    )


async def label_changes(
    ctx: ServiceContext, ws: str, changes: ManifestDiff
) -> dict[str, dict[str, object]]:
    """For each relabelled file of a diff: what happened to its objects."""
    pairs = [
        (c.filename, c.old.label_sha256, c.new.label_sha256)
        for c in changes.modified
        if c.old is not None and c.new is not None and "label" in c.kinds
    ]
    digests = {d for _, a, b in pairs for d in (a, b) if d}
    docs = await asyncio.to_thread(read_labels, ctx, ws, digests)
    return {
        name: diff_labels(docs.get(a) if a else None, docs.get(b) if b else None).as_dict()
        for name, a, b in pairs
    }
