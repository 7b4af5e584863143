"""Bridges between the event loop's request/response streams and blocking code."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
import itertools
import threading
from collections.abc import AsyncIterator, Iterator

from appliance.iostreams import ChunkRaw
from appliance.services.uploads import Budget

#: How far the loop may read ahead of the worker thread consuming the body.
READ_AHEAD = 8 << 20


async def started(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` with its first chunk already read (in a worker thread), for a
    response about to stream it: a blob that is gone or a store that does not
    answer is then a problem answer (404, 503) before the status line is sent,
    not a 200 with a full Content-Length cut off part way."""
    first = await asyncio.to_thread(next, chunks, None)
    return iter(()) if first is None else itertools.chain((first,), chunks)


class _Pipe:
    """Chunks handed from the event loop to one worker thread, read ahead up to
    ``READ_AHEAD`` bytes so neither side waits on the other for every chunk."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.chunks: collections.deque[bytes | None] = collections.deque()
        self.ready = threading.Condition()
        self.room = asyncio.Event()
        self.room.set()
        self.held = 0
        self.error: BaseException | None = None
        self.closed = False

    async def fill(self, stream: AsyncIterator[bytes], budget: Budget) -> None:
        try:
            async for chunk in stream:
                if self.closed:
                    return
                if not chunk:
                    continue
                budget.on_wire(len(chunk))
                await self.room.wait()
                with self.ready:
                    self.chunks.append(chunk)
                    self.held += len(chunk)
                    if self.held >= READ_AHEAD:
                        self.room.clear()
                    self.ready.notify()
        except BaseException as exc:
            self.error = exc
        finally:
            with self.ready:
                self.chunks.append(None)
                self.ready.notify()

    def take(self) -> bytes | None:
        """Blocking: the next chunk, or None at the end of the body."""
        with self.ready:
            while not self.chunks:
                self.ready.wait()
            chunk = self.chunks.popleft()
            if chunk is None:
                self.chunks.appendleft(None)  # stay at the end for later reads
                if self.error is not None:
                    raise self.error
                return None
            self.held -= len(chunk)
            if self.held < READ_AHEAD // 2 and not self.room.is_set():
                self.loop.call_soon_threadsafe(self.room.set)
            return chunk

    def close(self) -> None:
        self.closed = True
        self.loop.call_soon_threadsafe(self.room.set)


class RequestBody:
    """A blocking file over an async request body for a worker thread; each chunk
    counts against the request limit as it arrives. Use as an async context
    manager around the worker, so the reading task always ends."""

    def __init__(self, stream: AsyncIterator[bytes], budget: Budget) -> None:
        self.pipe = _Pipe(asyncio.get_running_loop())
        self.task = asyncio.ensure_future(self.pipe.fill(stream, budget))
        self.file: io.BufferedReader = io.BufferedReader(  # type: ignore[type-arg]
            ChunkRaw(self.pipe.take), buffer_size=1 << 20
        )

    async def __aenter__(self) -> io.BufferedReader:  # type: ignore[type-arg]
        return self.file

    async def __aexit__(self, *exc: object) -> None:
        self.pipe.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
