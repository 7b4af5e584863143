"""Run an admitted job to its end state, in the worker process.

The job's kind comes from the registry the composition root put on the context;
whatever the kind does, the job ends in a state: succeeded with its result,
cancelled (its process group was killed on request), or failed with the error.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from appliance.domain import jobs as states
from appliance.errors import ApplianceError
from appliance.jobs.handle import CatalogJobHandle, JobCancelled
from appliance.services.context import ServiceContext

log = logging.getLogger("ahoy.worker")


async def execute(ctx: ServiceContext, ws: str, job_id: str) -> str:
    """Run job ``job_id`` (admitted: running) and record how it ended; returns that state."""
    async with ctx.catalog.reading(ws) as uow:
        job = await uow.jobs.get(job_id)
    if job["state"] != states.RUNNING:
        return str(job["state"])  # cancelled between admission and pickup
    handle = CatalogJobHandle(ctx, ws, job)
    fields: dict[str, Any]
    try:
        result = await ctx.kinds.get(job["kind"]).run(handle)
    except JobCancelled:
        fields = {"state": states.CANCELLED}
    except ApplianceError as exc:
        fields = {"state": states.FAILED, "error": _error(exc.code, exc.message, exc.hint)}
    except Exception as exc:  # a job must end in a state, whatever broke
        fields = {"state": states.FAILED, "error": _error("internal-error", repr(exc), "")}
    else:
        fields = {"state": states.SUCCEEDED, "result": result}
    with contextlib.suppress(ApplianceError):
        await handle.flush()
    if fields["state"] == states.FAILED and await handle.cancel_requested():
        fields = {"state": states.CANCELLED}
    try:
        async with ctx.catalog.writing(ws) as uow:
            await uow.jobs.update(job_id, finished_at=time.time(), pgid=None, **fields)
            await uow.audit.record(
                job["created_by"], f"job.{fields['state']}", f"job:{job_id}", kind=job["kind"]
            )
    except states.IllegalMove as exc:
        # Ended meanwhile: `ahoy serve` failed it while this worker was cut off.
        log.warning("job %s: %s; its end here (%s) is not recorded", job_id, exc, fields["state"])
        return exc.old
    return str(fields["state"])


def _error(code: str, detail: str, hint: str) -> dict[str, str]:
    return {"code": code, "detail": detail, "hint": hint}
