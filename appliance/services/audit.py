"""The audit trail: a workspace's entries; the chain's anchor (signed checkpoints
of its head); and the verification that holds the whole chain against them."""

from __future__ import annotations

import asyncio
import time

from appliance.domain.audit_chain import Checkpoint
from appliance.domain.records import AuditEntry
from appliance.ports.audit_anchor import AnchorRead
from appliance.services.context import ServiceContext


async def entries(
    ctx: ServiceContext, ws: str, limit: int, before_id: int | None = None
) -> list[AuditEntry]:
    """Up to ``limit`` of the workspace's entries older than ``before_id``, newest first."""
    async with ctx.catalog.reading(ws) as uow:
        return await uow.audit.entries(limit, before_id)


async def checkpoint(ctx: ServiceContext, after: int = 0) -> Checkpoint | None:
    """Sign and record the chain's head when it has moved past entry ``after``."""
    if ctx.anchor is None:
        return None
    async with ctx.catalog.accounts() as acc:
        head = await acc.audit.head()
    if head is None or head[0] <= after:
        return None
    cp = Checkpoint(head[0], head[1], time.time())
    await asyncio.to_thread(ctx.anchor.append, cp)
    return cp


async def verify(ctx: ServiceContext) -> dict[str, object]:
    """Walk the chain end to end and hold it against every signed checkpoint."""
    anchor = ctx.anchor
    read = await asyncio.to_thread(anchor.read) if anchor is not None else AnchorRead()
    async with ctx.catalog.accounts() as acc:
        check = await acc.audit.check(read.checkpoints)
    result = check.as_dict()
    result["key_id"] = anchor.key_id if anchor is not None else None
    result["public_key"] = anchor.public_key if anchor is not None else None
    result["rejected_checkpoints"] = read.rejected
    if check.ok and read.rejected:
        result["ok"] = False
        result["reason"] = f"{len(read.rejected)} checkpoint(s) fail verification: " + "; ".join(
            read.rejected[:3]
        )
    return result
