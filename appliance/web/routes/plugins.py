"""The model plugins this appliance loaded (and those it could not, with why), and
the training tiers the box offers."""

from __future__ import annotations

from typing import Any

from litestar import get

from appliance.domain.access import Permission as P
from appliance.services import job_kinds
from appliance.web.access import CtxDep, somewhere


@get(
    "/plugins",
    opt=somewhere(P.JOB_SUBMIT),
    summary="Model plugins (loaded or not, and why) and training tiers",
)
async def list_plugins(ctx: CtxDep) -> dict[str, Any]:
    return await job_kinds.plugins(ctx)
