"""The model plugins this appliance loaded (and those it could not, with why), and
the training tiers the box offers."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import get

from appliance.domain.access import Permission as P
from appliance.jobs.kinds import registry
from appliance.plugins.overview import overview
from appliance.web.access import somewhere


@get(
    "/plugins",
    opt=somewhere(P.JOB_SUBMIT),
    summary="Model plugins (loaded or not, and why) and training tiers",
)
async def list_plugins() -> dict[str, Any]:
    return await asyncio.to_thread(lambda: overview(registry()))
