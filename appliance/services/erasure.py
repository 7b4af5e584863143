"""GDPR erasure: an explicit, audited tombstone that destroys the bytes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from appliance.domain.canonical import is_sha256_hex
from appliance.domain.manifest import ManifestRow
from appliance.errors import ApplianceError, InvalidInput, NotFound
from appliance.services.context import ServiceContext


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
) -> ErasureReport:
    if not reason.strip():
        raise InvalidInput("an erasure needs a reason", hint="pass --reason 'GDPR request #123'")
    async with ctx.catalog.writing(ws) as uow:
        if sha256 is None:
            if not (dataset and filename):
                raise InvalidInput(
                    "say what to erase", hint="give --sha256, or a dataset and a file"
                )
            ds = await uow.get_dataset(dataset)
            working = await uow.working_files(ds.id)
            if filename not in working:
                raise NotFound("file", filename, hint="name a file of the working area")
            sha256 = working[filename].sha256
        if not is_sha256_hex(sha256) or not await uow.known_digests({sha256}):
            raise NotFound("content", sha256, hint="it is unknown here or already erased")
        dropped = await uow.erase_file(sha256, reason, actor)
        await uow.audit(actor, "erase", f"sha256:{sha256}", reason=reason, dropped=len(dropped))
        try:
            await asyncio.to_thread(ctx.blobs.delete_many, ws, [sha256])
            deleted = True
        except ApplianceError:
            deleted = False  # the tombstone stands; `ahoy gc` finishes the deletion
    return ErasureReport(sha256, dropped, deleted)


async def erased_rows(
    ctx: ServiceContext, ws: str, rows: list[ManifestRow]
) -> list[dict[str, object]]:
    """The rows of a manifest whose content was erased, each with its tombstone
    (when, by whom, why): what a pull reports instead of the bytes."""
    async with ctx.catalog.reading(ws) as uow:
        gone = await uow.erased_digests({r.sha256 for r in rows})
        records = {sha: await uow.erasure_record(sha) or {} for sha in gone}
    return [
        {"filename": r.filename, "sha256": r.sha256, **records[r.sha256]}
        for r in rows
        if r.sha256 in gone
    ]
