"""What clients are told about the job kinds this appliance runs: each kind's
parameters (a form), and the model plugins and training tiers behind them."""

from __future__ import annotations

import asyncio
from typing import Any

from appliance.plugins.overview import overview
from appliance.services.context import ServiceContext


async def describe(ctx: ServiceContext) -> dict[str, Any]:
    kinds = ctx.kinds.all()
    # Describing may load plugins and ask for a container runtime: off the loop.
    described = await asyncio.to_thread(lambda: [k.describe() for k in kinds])
    return {
        "kinds": [
            {"name": k.name, "summary": k.summary, **d}
            for k, d in zip(kinds, described, strict=True)
        ]
    }


async def plugins(ctx: ServiceContext) -> dict[str, Any]:
    """Model plugins (loaded or not, and why) and the training tiers of this box."""
    return await asyncio.to_thread(overview, ctx.kinds)
