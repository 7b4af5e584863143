"""`ahoy serve`'s audit anchoring: sign the chain's head every few seconds while it
moves, and once more on the way out."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from appliance.errors import ApplianceError
from appliance.services import audit
from appliance.services.context import ServiceContext

log = logging.getLogger("ahoy.audit")


async def anchor_audit(ctx: ServiceContext, stop: asyncio.Event, every: float) -> None:
    last = 0
    while True:
        try:
            cp = await audit.checkpoint(ctx, after=last)
            if cp is not None:
                last = cp.entry_id
        except (ApplianceError, OSError) as exc:  # a full disk must not stop the API
            log.error("could not record an audit checkpoint: %s", exc)
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
