"""Blobs written out as files for a job that needs them on disk (images laid out
for prediction, calibration images for an INT8 export)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path

from appliance.jobs.kinds import JobHandle

#: digests fetched per store call when laying files out (progress between calls)
FETCH_BATCH = 256


async def write_blobs(
    job: JobHandle, wanted: Mapping[str, Sequence[Path]], unit: str = "files"
) -> None:
    """Write each blob's bytes to every path that wants them, fetched in the store's
    batches (one request per run of packed blobs, not one per file); progress is
    reported between batches."""
    digests = list(wanted)

    def fetch(part: list[str]) -> None:
        for sha, data in job.ctx.blobs.read_many(job.ws, part):
            for path in wanted[sha]:
                path.write_bytes(data)

    for start in range(0, len(digests), FETCH_BATCH):
        await asyncio.to_thread(fetch, digests[start : start + FETCH_BATCH])
        await job.progress(min(start + FETCH_BATCH, len(digests)), len(digests), unit)
