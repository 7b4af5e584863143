"""Bridges between the event loop's request/response streams and blocking code."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

from appliance.iostreams import ChunkRaw
from appliance.services.uploads import Budget


def request_reader(
    chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop, budget: Budget
) -> io.BufferedReader:
    """A blocking file over an async request body, for a worker thread. Each
    chunk is counted against the request limit as it arrives."""

    def next_chunk() -> bytes | None:
        chunk = asyncio.run_coroutine_threadsafe(_next(chunks), loop).result()
        if chunk is not None:
            budget.on_wire(len(chunk))
        return chunk

    return io.BufferedReader(ChunkRaw(next_chunk), buffer_size=1 << 20)


async def _next(chunks: AsyncIterator[bytes]) -> bytes | None:
    while True:
        try:
            chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return None
        if chunk:
            return chunk
