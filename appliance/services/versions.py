"""Freeze the working area into versions, walk them, compare them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from appliance.domain.diff import ManifestDiff, diff_manifests
from appliance.domain.labels.approval import Selection, select_approved
from appliance.domain.labels.review import APPROVED
from appliance.domain.manifest import ManifestRow, WorkingFile, fingerprint, freeze
from appliance.domain.records import Version
from appliance.domain.split import SplitConfig
from appliance.errors import InvalidInput, NothingToCommit
from appliance.ports.catalog import UnitOfWork
from appliance.services import idempotency
from appliance.services.context import ServiceContext
from appliance.services.idempotency import Once

WORKING = "working"


async def commit(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    message: str,
    actor: str,
    split: SplitConfig | None = None,
    allow_empty: bool = False,
    only_approved: bool = False,
    *,
    once: Once | None = None,
) -> Version:
    """One transaction: read the working area, assign splits, fingerprint, insert.

    ``only_approved``: take only approved images from the working area (see
    ``domain.labels.approval``); the others keep their entry from the head.
    ``once``: the answer (the version) is kept with it."""
    async with ctx.catalog.writing(ws) as uow:
        await idempotency.claim(uow, once)
        ds = await uow.datasets.get(slug)
        if split is not None and split != ds.split:
            await uow.datasets.set_split(ds.id, split)
        use_split = split or ds.split
        working = await uow.files.working(ds.id)
        head = await uow.versions.head(ds.id)
        chosen, held = list(working.values()), None
        if only_approved:
            held = await _approved(uow, ds.id, working.values(), head)
            chosen = held.files
        rows = freeze(chosen, use_split)
        manifest_hash = fingerprint(rows)
        if not allow_empty:
            if head is not None and head.manifest_hash == manifest_hash:
                nothing = NothingToCommit(slug, head.number)
                if held is not None:
                    nothing.hint = f"{held.held_back} changed image(s) wait for approval"
                raise nothing
            if not rows:
                raise InvalidInput(
                    f"dataset {slug!r} has no files to commit",
                    hint="`ahoy dataset import DIR` first, or pass --allow-empty",
                )
        if held is None:
            total = await uow.files.working_bytes(ds.id)
        else:
            sizes = await uow.files.sizes({r.sha256 for r in rows})
            total = sum(sizes.get(r.sha256, 0) for r in rows)
        version = await uow.versions.create(
            ds.id, rows, manifest_hash, use_split, head, actor, message or "", total
        )
        await uow.audit.record(
            actor,
            "version.commit",
            f"{slug}@{version.number}",
            manifest_hash=manifest_hash,
            files=len(rows),
            **_held_detail(held),
        )
        await idempotency.keep(uow, once, version.as_dict())
    return version


async def _approved(
    uow: UnitOfWork, dataset_id: int, working: Iterable[WorkingFile], head: Version | None
) -> Selection:
    reviews = await uow.reviews.by_file(dataset_id)
    approved = {n: r["label_sha256"] for n, r in reviews.items() if r["state"] == APPROVED}
    old = {r.filename: r for r in await uow.versions.manifest(head.id)} if head else {}
    return select_approved(working, approved, old)


def _held_detail(held: Selection | None) -> dict[str, Any]:
    if held is None:
        return {}
    return {
        "only_approved": True,
        "approved": len(held.approved),
        "held_back": held.held_back,
        "kept_from_head": len(held.from_head),
        "left_out": len(held.omitted),
    }


async def list_all(ctx: ServiceContext, ws: str, slug: str) -> list[Version]:
    """Every version of the dataset, newest first."""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        found = await uow.versions.list(ds.id)
    return sorted(found, key=lambda v: -v.number)


async def log(ctx: ServiceContext, ws: str, slug: str, ref: str = "latest") -> list[Version]:
    """The parent chain from ``ref`` back to the first version."""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        versions = await uow.versions.list(ds.id)
        if not versions:
            return []
        start = await uow.versions.get(ds.id, ref)
    by_id = {v.id: v for v in versions}
    chain: list[Version] = []
    current: Version | None = start
    while current is not None:
        chain.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    return chain


async def manifest(
    ctx: ServiceContext, ws: str, slug: str, ref: str
) -> tuple[Version | None, list[ManifestRow]]:
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        if ref == WORKING:
            working = await uow.files.working(ds.id)
            return None, freeze(working.values(), ds.split)
        version = await uow.versions.get(ds.id, ref)
        return version, await uow.versions.manifest(version.id)


async def diff(ctx: ServiceContext, ws: str, slug: str, a: str, b: str) -> ManifestDiff:
    """``a`` and ``b`` are version numbers, tags, ``latest`` or ``working``."""
    _, old = await manifest(ctx, ws, slug, a)
    _, new = await manifest(ctx, ws, slug, b)
    return diff_manifests(old, new)


async def show(ctx: ServiceContext, ws: str, slug: str, ref: str) -> Version:
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        return await uow.versions.get(ds.id, ref)


async def detail(ctx: ServiceContext, ws: str, slug: str, ref: str) -> dict[str, Any]:
    """A version, and (for a derived one) the version and recipe it was made from."""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        version = await uow.versions.get(ds.id, ref)
        return {**version.as_dict(), "derived_from": await uow.versions.derivation(version.id)}
