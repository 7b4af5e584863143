"""Datasets and their working area: create, list, status, remove, tag."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.domain.diff import ManifestDiff, diff_manifests
from appliance.domain.manifest import WorkingFile, freeze
from appliance.domain.names import check_filename, check_name
from appliance.domain.records import Dataset, Version
from appliance.domain.split import SplitConfig
from appliance.errors import InvalidInput, NotFound, VersionHeld
from appliance.services import idempotency
from appliance.services.context import ServiceContext
from appliance.services.idempotency import Once

SLUG_HINT = "use 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit"


def check_slug(slug: str) -> str:
    check_name("dataset", slug)
    ok = (
        0 < len(slug) <= 64
        and slug[0].isalnum()
        and all(c.isascii() and (c.islower() or c.isdigit() or c in "-_") for c in slug)
    )
    if not ok:
        raise InvalidInput(f"dataset name {slug!r} is not allowed", hint=SLUG_HINT)
    return slug


async def create(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    actor: str,
    description: str = "",
    split: SplitConfig | None = None,
    *,
    once: Once | None = None,
) -> DatasetSummary:
    """The new dataset as listed. ``once``: its answer is kept with the dataset."""
    check_slug(slug)
    async with ctx.catalog.writing(ws) as uow:
        await idempotency.claim(uow, once)
        ds = await uow.datasets.create(slug, description, split or SplitConfig())
        await uow.audit.record(actor, "dataset.create", slug, split=str(ds.split))
        made = DatasetSummary(ds, latest_version=None, working_files=0)
        await idempotency.keep(uow, once, made.as_dict())
    return made


@dataclass(frozen=True)
class DatasetSummary:
    dataset: Dataset
    latest_version: int | None
    working_files: int

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.dataset.slug,
            "description": self.dataset.description,
            "split": self.dataset.split.as_dict(),
            "latest_version": self.latest_version,
            "working_files": self.working_files,
            "created_at": self.dataset.created_at,
        }


async def list_all(ctx: ServiceContext, ws: str) -> list[DatasetSummary]:
    async with ctx.catalog.reading(ws) as uow:
        return [DatasetSummary(*row) for row in await uow.datasets.list()]


async def show(ctx: ServiceContext, ws: str, slug: str) -> DatasetSummary:
    """One live dataset as ``list_all`` gives it."""
    for s in await list_all(ctx, ws):
        if s.dataset.slug == slug:
            return s
    raise NotFound("dataset", slug)


@dataclass(frozen=True)
class Status:
    dataset: Dataset
    head: Version | None
    working_files: int
    changes: ManifestDiff


async def status(ctx: ServiceContext, ws: str, slug: str) -> Status:
    """The working area against the latest version, like `git status`."""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        head = await uow.versions.head(ds.id)
        working = await uow.files.working(ds.id)
        base = await uow.versions.manifest(head.id) if head else []
    split = head.split if head else ds.split
    changes = diff_manifests(base, freeze(working.values(), split))
    return Status(ds, head, len(working), changes)


async def working_files(ctx: ServiceContext, ws: str, slug: str) -> list[tuple[WorkingFile, int]]:
    """The working area's files by name, each with its size."""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        files = sorted((await uow.files.working(ds.id)).values(), key=lambda f: f.filename)
        sizes = await uow.files.sizes({f.sha256 for f in files})
    return [(f, sizes.get(f.sha256, 0)) for f in files]


async def remove_files(
    ctx: ServiceContext, ws: str, slug: str, paths: list[str], actor: str
) -> list[str]:
    """Drop names (or whole folders, given as ``dir/``) from the working area."""
    for p in paths:
        check_filename(p.rstrip("/"))
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.datasets.get(slug)
        working = await uow.files.working(ds.id)
        doomed = sorted(name for name in working if any(_under(name, p) for p in paths))
        unmatched = [p for p in paths if not any(_under(n, p) for n in doomed)]
        if unmatched:
            raise NotFound("file", unmatched[0], hint="`ahoy dataset status` lists the files")
        await uow.files.stage(ds.id, [], remove=doomed)
        await uow.audit.record(actor, "dataset.rm-files", slug, count=len(doomed))
    return doomed


def _under(name: str, path: str) -> bool:
    """``name`` is the file ``path`` or lies in the folder ``path`` (``dir`` or ``dir/``)."""
    return name == path or name.startswith(path.rstrip("/") + "/")


async def remove_version(ctx: ServiceContext, ws: str, slug: str, ref: str, actor: str) -> Version:
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.datasets.get(slug)
        version = await uow.versions.get(ds.id, ref)
        holds = await uow.versions.holds(version.id)
        if holds:
            await uow.audit.record(actor, "version.delete", f"{slug}@{version.number}", "refused")
            raise VersionHeld(
                slug, version.number, [f"{h.holder_kind} {h.holder_ref}" for h in holds]
            )
        digests = await uow.versions.delete(version.id)
        await uow.storage.mark_orphans(digests)
        await uow.audit.record(actor, "version.delete", f"{slug}@{version.number}")
    return version


async def remove_dataset(ctx: ServiceContext, ws: str, slug: str, actor: str) -> Dataset:
    """Soft delete: references go at once, bytes after the GC grace period."""
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.datasets.get(slug)
        for version in await uow.versions.list(ds.id):
            holds = await uow.versions.holds(version.id)
            if holds:
                await uow.audit.record(actor, "dataset.delete", slug, "refused")
                raise VersionHeld(
                    slug, version.number, [f"{h.holder_kind} {h.holder_ref}" for h in holds]
                )
        await uow.datasets.soft_delete(ds.id)
        await uow.storage.mark_orphans()
        await uow.audit.record(actor, "dataset.delete", slug)
    return ds


async def tag(
    ctx: ServiceContext, ws: str, slug: str, name: str, ref: str | None, actor: str
) -> Version | None:
    """Point tag ``name`` at version ``ref``; with ``ref=None`` delete the tag."""
    if ref is not None:
        check_name("tag", name)
    if not name or name.lstrip("v").isdigit() or name == "latest" or "/" in name:
        raise InvalidInput(
            f"tag name {name!r} is not allowed",
            hint="tags are words like 'production' or 'golden', not numbers",
        )
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.datasets.get(slug)
        if ref is None:
            if not await uow.versions.delete_tag(ds.id, name):
                raise NotFound("tag", name)
            await uow.audit.record(actor, "tag.delete", f"{slug}:{name}")
            return None
        version = await uow.versions.get(ds.id, ref)
        await uow.versions.set_tag(ds.id, name, version.id, actor)
        await uow.audit.record(actor, "tag.set", f"{slug}:{name}", version=version.number)
        return await uow.versions.get(ds.id, name)


async def tags(ctx: ServiceContext, ws: str, slug: str) -> list[tuple[str, int]]:
    """(tag, version number) pairs, by tag name."""
    async with ctx.catalog.reading(ws) as uow:
        ds = await uow.datasets.get(slug)
        found = await uow.versions.list(ds.id)
    return sorted((t, v.number) for v in found for t in v.tags)


async def hold(
    ctx: ServiceContext,
    ws: str,
    slug: str,
    ref: str,
    holder_kind: str,
    holder_ref: str,
    *,
    release: bool = False,
) -> Version:
    """Lineage guard: a model (or anything else) pins a version against deletion."""
    async with ctx.catalog.writing(ws) as uow:
        ds = await uow.datasets.get(slug)
        version = await uow.versions.get(ds.id, ref)
        if release:
            await uow.versions.release_hold(version.id, holder_kind, holder_ref)
        else:
            await uow.versions.add_hold(version.id, holder_kind, holder_ref)
    return version
