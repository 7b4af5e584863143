"""Pre-label one image with a model: its proposals join the file's labels as objects
marked ``proposal: true`` (with ``score`` and ``model``), beside every object a
person drew, and are saved like any edit (activity ``prelabel``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from appliance.domain.labels.document import parse_document
from appliance.domain.labels.prelabel import merge_proposals
from appliance.domain.labels.schema import schema_from_dict
from appliance.errors import InvalidInput, NotFound
from appliance.ports.prelabel import Prelabeler
from appliance.services import registry
from appliance.services.context import ServiceContext
from appliance.services.label_edit import save_labels

DEFAULT_MIN_SCORE = 0.25
NO_MODEL_HINT = "train or register a model first (`ahoy model list` shows them)"


async def prelabel(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    filename: str,
    model_ref: str,
    actor: str,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
) -> dict[str, Any]:
    model = ctx.models.lookup(ws, model_ref) or await _registered(ctx, ws, model_ref)
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        f = await uow.files.working_file(ds.id, filename)
        raw_schema = await uow.labels.schema(ds.id)
    if f is None:
        raise NotFound("file", f"{slug}:{filename}", hint="import the image first")
    if f.role != "image":
        raise InvalidInput(f"{filename!r} is not an image", hint="pre-label images only")
    image = await asyncio.to_thread(ctx.blobs.read, ws, f.sha256)
    current = None
    if f.label_sha256 is not None:
        data = await asyncio.to_thread(ctx.blobs.read, ws, f.label_sha256)
        current = parse_document(json.loads(data), f.label_sha256)
    schema = schema_from_dict(raw_schema) if raw_schema else None
    proposals = await asyncio.to_thread(model.propose, image, schema, min_score=min_score)
    merged = merge_proposals(current, proposals, model_ref)
    saved = await save_labels(
        ctx, ws, slug, filename, merged.document, actor, expect=f.label_sha256, action="prelabel"
    )
    return {
        "path": filename,
        "model": model_ref,
        "label_sha256": saved.label_sha256,
        "previous": saved.previous,
        "changed": saved.changed,
        "proposed": merged.added,
        "skipped": merged.skipped,
        "replaced": merged.replaced,
    }


async def _registered(ctx: ServiceContext, ws: str, model_ref: str) -> Prelabeler:
    """``name`` or ``name@ref`` (a version number, tag or latest) from the registry."""
    name, _, ref = model_ref.partition("@")
    try:
        mv = await registry.version(ctx, ws, name, ref or "latest")
    except NotFound:
        raise NotFound("model", model_ref, hint=NO_MODEL_HINT) from None
    if mv["task"] != "detect":
        raise InvalidInput(
            f"model {model_ref!r} is a {mv['task']} model", hint="pre-label with a detect model"
        )
    weights = await asyncio.to_thread(ctx.blobs.read, ws, mv["weights_sha256"])
    label = f"{name}@{mv['number']}"
    model = await asyncio.to_thread(ctx.models.load, label, mv["weights_sha256"], weights)
    if model is None:
        raise NotFound("model", model_ref, hint="this process runs no models: use `ahoy serve`")
    return model
