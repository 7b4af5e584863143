"""GDPR erasure: an explicit, audited tombstone that destroys the bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from appliance.domain.canonical import is_sha256_hex
from appliance.domain.manifest import ManifestRow
from appliance.errors import ApplianceError, InvalidInput, NotFound
from appliance.ports.catalog import UnitOfWork
from appliance.services import idempotency
from appliance.services.context import ServiceContext
from appliance.services.idempotency import Once


@dataclass(frozen=True)
class ErasureReport:
    sha256: str
    dropped_from_working: list[tuple[str, str]]
    bytes_deleted: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "sha256": self.sha256,
            "dropped_from_working": [list(p) for p in self.dropped_from_working],
            "bytes_deleted": self.bytes_deleted,
        }


async def erase(
    ctx: ServiceContext,
    ws: str,
    actor: str,
    reason: str,
    *,
    sha256: str | None = None,
    dataset: str | None = None,
    filename: str | None = None,
    version: str | None = None,
    once: Once | None = None,
) -> ErasureReport:
    """Erase a content, named by ``sha256`` or by a dataset's ``filename``: the
    file of ``version`` (a number, vN, tag or latest) when given, else of the
    working area, else of whichever versions hold that name (refused, listing
    them, when they hold different contents under it). ``once``: the report is
    kept as its answer with the tombstone."""
    if not reason.strip():
        raise InvalidInput("an erasure needs a reason", hint="pass --reason 'GDPR request #123'")
    async with ctx.catalog.writing(ws) as uow:
        await idempotency.claim(uow, once)
        if sha256 is None:
            if not (dataset and filename):
                raise InvalidInput(
                    "say what to erase", hint="give --sha256, or a dataset and a file"
                )
            sha256 = await _content_of(uow, dataset, filename, version)
        if not is_sha256_hex(sha256) or not await uow.files.known({sha256}):
            raise NotFound("content", sha256, hint="it is unknown here or already erased")
        dropped = await uow.storage.erase(sha256, reason, actor)
        await uow.audit.record(
            actor, "erase", f"sha256:{sha256}", reason=reason, dropped=len(dropped)
        )
        try:
            await asyncio.to_thread(ctx.blobs.delete_many, ws, [sha256])
            deleted = True
        except ApplianceError:
            deleted = False  # the tombstone stands; `ahoy gc` finishes the deletion
        report = ErasureReport(sha256, dropped, deleted)
        await idempotency.keep(uow, once, report.as_dict())
    return report


async def _content_of(uow: UnitOfWork, dataset: str, filename: str, version: str | None) -> str:
    ds = await uow.datasets.get(dataset)
    if version is not None:
        v = await uow.versions.get(ds.id, version)
        for row in await uow.versions.manifest(v.id):
            if row.filename == filename:
                return row.sha256
        raise NotFound("file", f"{dataset}@{v.number}:{filename}", hint="see `ahoy dataset ls`")
    working = await uow.files.working(ds.id)
    if filename in working:
        return working[filename].sha256
    held: dict[str, list[int]] = {}  # content → the versions that hold it under this name
    for v in await uow.versions.list(ds.id):
        for row in await uow.versions.manifest(v.id):
            if row.filename == filename:
                held.setdefault(row.sha256, []).append(v.number)
    if not held:
        raise NotFound(
            "file", f"{dataset}:{filename}", hint="no version and not the working area has it"
        )
    if len(held) > 1:
        where = "; ".join(
            f"v{', v'.join(map(str, sorted(ns)))}: sha256 {sha[:12]}…" for sha, ns in held.items()
        )
        raise InvalidInput(
            f"{filename!r} names different contents in versions of {dataset!r} ({where})",
            hint="say which with --version N, or give --sha256",
        )
    return next(iter(held))


async def erased_rows(
    ctx: ServiceContext, ws: str, rows: list[ManifestRow]
) -> list[dict[str, object]]:
    """The rows of a manifest whose content was erased, each with its tombstone
    (when, by whom, why): what a pull reports instead of the bytes."""
    async with ctx.catalog.reading(ws) as uow:
        gone = await uow.files.erased({r.sha256 for r in rows})
        records: dict[str, Mapping[str, object]] = {
            sha: await uow.storage.erasure(sha) or {} for sha in gone
        }
    return [
        {"filename": r.filename, "sha256": r.sha256, **records[r.sha256]}
        for r in rows
        if r.sha256 in gone
    ]
