"""Freeze the working area into versions, walk them, compare them."""

from __future__ import annotations

from appliance.domain.diff import ManifestDiff, diff_manifests
from appliance.domain.manifest import ManifestRow, fingerprint, freeze
from appliance.domain.records import Version
from appliance.domain.split import SplitConfig
from appliance.errors import InvalidInput, NothingToCommit
from appliance.services.context import ServiceContext

WORKING = "working"


async def commit(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    message: str,
    actor: str,
    split: SplitConfig | None = None,
    allow_empty: bool = False,
) -> Version:
    """One transaction: read the working area, assign splits, fingerprint, insert."""
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.get_dataset(slug)
        if split is not None and split != ds.split:
            await uow.set_dataset_split(ds.id, split)
        use_split = split or ds.split
        working = await uow.working_files(ds.id)
        rows = freeze(working.values(), use_split)
        manifest_hash = fingerprint(rows)
        head = await uow.head(ds.id)
        if not allow_empty:
            if head is not None and head.manifest_hash == manifest_hash:
                raise NothingToCommit(slug, head.number)
            if not rows:
                raise InvalidInput(
                    f"dataset {slug!r} has no files to commit",
                    hint="`ahoy dataset import DIR` first, or pass --allow-empty",
                )
        total = await uow.working_bytes(ds.id)
        version = await uow.create_version(
            ds.id, rows, manifest_hash, use_split, head, actor, message or "", total
        )
        await uow.audit(
            actor,
            "version.commit",
            f"{slug}@{version.number}",
            manifest_hash=manifest_hash,
            files=len(rows),
        )
    return version


async def log(ctx: ServiceContext, ws: str, slug: str, ref: str = "latest") -> list[Version]:
    """The parent chain from ``ref`` back to the first version."""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.get_dataset(slug)
        versions = await uow.list_versions(ds.id)
        if not versions:
            return []
        start = await uow.get_version(ds.id, ref)
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
        ds = await uow.get_dataset(slug)
        if ref == WORKING:
            working = await uow.working_files(ds.id)
            return None, freeze(working.values(), ds.split)
        version = await uow.get_version(ds.id, ref)
        return version, await uow.manifest(version.id)


async def diff(ctx: ServiceContext, ws: str, slug: str, a: str, b: str) -> ManifestDiff:
    """``a`` and ``b`` are version numbers, tags, ``latest`` or ``working``."""
    _, old = await manifest(ctx, ws, slug, a)
    _, new = await manifest(ctx, ws, slug, b)
    return diff_manifests(old, new)


async def show(ctx: ServiceContext, ws: str, slug: str, ref: str) -> Version:
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.get_dataset(slug)
        return await uow.get_version(ds.id, ref)
