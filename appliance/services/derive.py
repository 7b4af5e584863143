"""Versions made from another version by a job (augmentation): written into a
dataset of their own, with the source and the recipe on record.

The target's working area becomes exactly the derived files (each pinned to its
split) and is committed in the same transaction, so a derived version is whole
or absent. A target with uncommitted work of its own is refused, never clobbered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from appliance.domain.manifest import fingerprint, freeze
from appliance.domain.records import Dataset, StagedFile, Version
from appliance.errors import BlobsNotUploaded, Conflict, InvalidInput, NotFound
from appliance.ports.catalog import UnitOfWork
from appliance.services.context import ServiceContext
from appliance.services.datasets import check_slug
from appliance.services.staging import stage_in


@dataclass(frozen=True, slots=True)
class Derivation:
    kind: str  # e.g. "augment"
    source_dataset: str
    source_version_id: int
    recipe: dict[str, Any]
    recipe_sha256: str
    run_id: str | None


async def check_target(ctx: ServiceContext, ws: str, source: str, into: str) -> None:
    """Refuses, before any work, a target the derived version could not go into."""
    check_slug(into)
    if into == source:
        raise InvalidInput(
            f"a derived version goes into a dataset of its own, not {source!r} itself",
            hint=f"name another dataset, e.g. {source}-aug",
        )
    async with ctx.catalog.reading(ws) as uow:
        try:
            target = await uow.datasets.get(into)
        except NotFound:
            return
        await _refuse_uncommitted(uow, target)


async def _refuse_uncommitted(uow: UnitOfWork, target: Dataset) -> None:
    working = await uow.files.working(target.id)
    head = await uow.versions.head(target.id)
    current = fingerprint(freeze(working.values(), target.split)) if working else None
    if current is not None and (head is None or head.manifest_hash != current):
        raise Conflict(
            f"dataset {target.slug!r} has uncommitted changes a derived version would replace",
            hint=f"commit or discard them (`ahoy dataset status {target.slug}`), or name"
            " another dataset",
        )


async def commit_derived(
    ctx: ServiceContext,
    ws: str,
    into: str,
    files: list[StagedFile],
    derivation: Derivation,
    actor: str,
    message: str,
) -> tuple[Version, bool]:
    """One transaction: the target (created if new, with the source's split and
    label schema) gets exactly ``files`` and a version recording its derivation.
    Returns the version and whether it is new (the same files again make none)."""
    async with ctx.catalog.writing(ws) as uow:
        source_ds = await uow.datasets.get(derivation.source_dataset)
        source = await uow.versions.by_id(derivation.source_version_id)
        if source is None or source.dataset_id != source_ds.id:
            raise NotFound("version", str(derivation.source_version_id))
        # Under the write lock GC also takes: what is here now stays until committed.
        wanted = {f.sha256 for f in files} | {f.label_sha256 for f in files if f.label_sha256}
        lacking = await asyncio.to_thread(ctx.blobs.missing, ws, wanted)
        if lacking:
            raise BlobsNotUploaded([(into, f"{len(lacking)} derived file(s) left the store")], [])
        known = await uow.files.sizes(wanted)  # the size on record wins
        files = [
            replace(
                f,
                size=known.get(f.sha256, f.size),
                label_size=known.get(f.label_sha256, f.label_size) if f.label_sha256 else 0,
            )
            for f in files
        ]
        target = await _target(uow, into, source_ds, source, actor)
        await _refuse_uncommitted(uow, target)
        await stage_in(uow, target, files, mirror_prefix="")
        rows = freeze((await uow.files.working(target.id)).values(), target.split)
        manifest_hash = fingerprint(rows)
        head = await uow.versions.head(target.id)
        if head is not None and head.manifest_hash == manifest_hash:
            return head, False
        sizes = await uow.files.sizes({r.sha256 for r in rows})
        version = await uow.versions.create(
            target.id,
            rows,
            manifest_hash,
            target.split,
            head,
            actor,
            message,
            sum(sizes.get(r.sha256, 0) for r in rows),
        )
        await uow.versions.add_derivation(
            version.id,
            source.id,
            derivation.kind,
            derivation.recipe,
            derivation.recipe_sha256,
            derivation.run_id,
        )
        await uow.audit.record(
            actor,
            "version.derive",
            f"{into}@{version.number}",
            kind=derivation.kind,
            source=f"{source_ds.slug}@{source.number}",
            recipe_sha256=derivation.recipe_sha256,
            manifest_hash=manifest_hash,
            files=len(rows),
        )
    return version, True


async def _target(
    uow: UnitOfWork, into: str, source_ds: Dataset, source: Version, actor: str
) -> Dataset:
    try:
        target = await uow.datasets.get(into)
    except NotFound:
        target = await uow.datasets.create(
            into, f"derived from {source_ds.slug}@{source.number}", source.split
        )
        await uow.audit.record(actor, "dataset.create", into, split=str(target.split))
    schema = await uow.labels.schema(source_ds.id)
    if schema is not None and await uow.labels.schema(target.id) != schema:
        await uow.labels.set_schema(target.id, schema, actor)
    return target
