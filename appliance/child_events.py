"""How the appliance and the child processes doing its heavy work talk: one protocol.

Every engine (training, export, prediction) and every job's helper process runs
as a child of the job worker, and all of them speak this. The parent's side is
``JobHandle.run_process`` (appliance.jobs.handle), the training supervisor
(appliance.training.supervise) and the RKNN export (appliance.export.rknn).

Parent → child
  argv   ``python -m <module> SPEC.json``: SPEC is a JSON file the parent wrote
         with everything the run needs (each engine's docstring lists its fields;
         the RKNN worker runs as a file under its own python, the box benchmark
         takes its three numbers as arguments).
  env    ``AHOY_EVENT_FD=<n>``: the write end of a pipe, inherited (``pass_fds``),
         the child's event channel (:class:`Channel` makes it). A child that may
         import ultralytics also gets the offline environment
         (appliance.training.offline).
  else   stdin is /dev/null; the child leads a session and process group of its
         own, recorded by the parent, so that a cancel kills all of it.

Child → parent
  events One a line on the event channel: ``@ahoy ``, a JSON object on one line,
         ``\\n``, in UTF-8 (:func:`encode`, :func:`emit`; :func:`decode`). What the
         object says is its engine's vocabulary: ``{"kind": ...}`` for the job
         helpers (``progress`` {done, total, phase}, ``result`` {data}, ``error``
         {message}), the typed events of appliance.domain.training.events for
         training.
  logs   Everything on stdout and stderr (the child's prints, its libraries',
         tracebacks) is log, never read as events. A line on the channel that is
         not an event (:class:`Garbled`) is shown in the log as such.
  end    The exit status: 0 done; 1 failed, after an event saying why when the
         child could; :data:`EXIT_PARENT_GONE` when the channel broke (nobody
         would read the result, and a run must not outlive its job); negative when
         a signal killed it. The end of the channel is not the end of the run
         (forked helpers may hold it open): the parent waits for the exit status.
         A line cut short by a kill is garbled, never half an event.

Why a channel of its own rather than marked lines on stdout: stdout is shared
with code the appliance does not control. tqdm's progress bars (Ultralytics')
write partial lines (``\\r``, no ``\\n``) to stderr, and C libraries (TensorRT,
rknn-toolkit2) write through buffers of their own, so a marked line printed among
them can arrive glued to the end of another line and be lost as log; any
library's print could pass for an event, too. On a pipe that only this module
writes to, an event is one ``write`` of a whole line, and nothing else is there.

The mark stays on the channel so that one line format serves where there is no
channel: an engine run by hand (no ``AHOY_EVENT_FD``) writes its events to stdout
among its log, and a user's training script in script mode reports on stdout by
its documented contract (docs/training.md; appliance.jobs.script_sandbox reads
it with :func:`event_in`). There the mark tells events from log, and a script's
events are kept to kinds that cannot change a job's state.

Engines: appliance.training, appliance.inference and appliance.export (the code
of these child processes, and what starts and reads them) import only this
module, appliance.domain, appliance.errors, each other (leftwards only: training
← inference ← export) and third-party libraries; never appliance.jobs, .runtime,
.services, .web, .cli, .adapters, .bootstrap or .settings. What they need from
the appliance comes in through the protocol (spec file, argv, environment) or as
arguments from the edge that calls them (a job kind, a plugin). This module
imports only the standard library: the RKNN worker, in an environment of its
own without the appliance, loads it by path.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

#: What starts every event line.
PREFIX = "@ahoy "
#: The environment variable naming the event channel's file descriptor.
FD_ENV = "AHOY_EVENT_FD"
#: Exit status of a child whose parent went away (its event channel broke).
EXIT_PARENT_GONE = 3
#: The longest line a reader accepts (a result listing files stays far below).
MAX_LINE = 8 << 20
_CHUNK = 1 << 16
_SHOWN = 300


# -- the line format ---------------------------------------------------------


class NotAnEvent(ValueError):
    """A line that is not an event line; ``reason`` says why."""

    def __init__(self, line: str, reason: str) -> None:
        super().__init__(f"not an event ({reason}): {_shown(line)!r}")
        self.line = line
        self.reason = reason


def frame(text: str) -> bytes:
    """The event line carrying ``text``, a JSON object's text on one line."""
    if "\n" in text or "\r" in text:
        raise ValueError("an event's JSON must be one line")
    return (PREFIX + text + "\n").encode()


def encode(event: Mapping[str, Any]) -> bytes:
    """The event line of ``event`` (a JSON object; NaN and infinities as Python's
    json writes them)."""
    return frame(json.dumps(dict(event), ensure_ascii=False, separators=(",", ":")))


def decode(line: bytes | str) -> dict[str, Any]:
    """The JSON object on an event line (its newline optional); raises
    :class:`NotAnEvent` if it is not one."""
    if isinstance(line, bytes):
        raw = line
        try:
            line = raw.decode()
        except UnicodeDecodeError:
            raise NotAnEvent(raw.decode(errors="replace"), "not UTF-8") from None
    line = line.removesuffix("\n")
    if not line.startswith(PREFIX):
        raise NotAnEvent(line, f"no {PREFIX.strip()!r} mark")
    try:
        body = json.loads(line[len(PREFIX) :])
    except ValueError as exc:
        raise NotAnEvent(line, f"invalid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise NotAnEvent(line, "not a JSON object")
    return body


def event_in(line: str) -> dict[str, Any] | None:
    """On a stream mixing events and log (stdout without a channel): the event on
    ``line``, or None when the line is log."""
    try:
        return decode(line)
    except NotAnEvent:
        return None


# -- the child's side --------------------------------------------------------


class EventWriter:
    """Writes event lines to a file descriptor, one whole line per ``write`` loop,
    from any thread. If the reader has gone (EPIPE), the process exits at once
    with :data:`EXIT_PARENT_GONE`."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = threading.Lock()

    def write(self, event: Mapping[str, Any]) -> None:
        self._send(encode(event))

    def write_json(self, text: str) -> None:
        """An event already written as JSON text (one line)."""
        self._send(frame(text))

    def _send(self, data: bytes) -> None:
        with self._lock:
            if self.fd == 1 and sys.stdout is not None:
                sys.stdout.flush()  # on stdout, an event keeps its place among prints
            try:
                while data:
                    data = data[os.write(self.fd, data) :]
            except BrokenPipeError:
                os._exit(EXIT_PARENT_GONE)


_writer: EventWriter | None = None
_writer_lock = threading.Lock()


def writer() -> EventWriter:
    """This process's event channel: the descriptor named by ``AHOY_EVENT_FD``, or
    stdout without one. The variable is taken out of the environment and the
    descriptor kept from programs this process executes, for which that number
    would mean something else (forks share it, as they share the process)."""
    global _writer
    with _writer_lock:
        if _writer is None:
            named = os.environ.pop(FD_ENV, "")
            fd = int(named) if named else 1
            if named:
                os.set_inheritable(fd, False)
            _writer = EventWriter(fd)
        return _writer


def emit(kind: str, **data: Any) -> None:
    """Report ``{"kind": kind, **data}`` on this process's event channel."""
    writer().write({"kind": kind, **data})


# -- the parent's side -------------------------------------------------------


class Channel:
    """A child's event channel, as its parent holds it. Make it before starting
    the child; start the child with :meth:`child_env` and :attr:`pass_fds`; then
    take :meth:`parent_end` (or :meth:`close` if the child did not start)."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()

    @property
    def pass_fds(self) -> tuple[int]:
        return (self._write,)

    def child_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) naming the channel."""
        return {**(os.environ if base is None else base), FD_ENV: str(self._write)}

    def parent_end(self) -> BinaryIO:
        """The read end, for :func:`read` or :func:`aread`. The parent's copy of the
        write end is closed: the channel ends when the child and its forks are gone."""
        os.close(self._write)
        pipe = open(self._read, "rb", buffering=0)  # noqa: SIM115 - the caller closes it
        self._read = self._write = -1
        return pipe

    def close(self) -> None:
        for fd in (self._read, self._write):
            if fd >= 0:
                os.close(fd)
        self._read = self._write = -1


@dataclass(frozen=True)
class EventLine:
    """An event heard: its object and its JSON text."""

    body: dict[str, Any]
    json: str


@dataclass(frozen=True)
class Garbled:
    """A line on the channel that is not an event; ``reason`` says why."""

    line: str
    reason: str

    def as_log(self) -> str:
        return f"(a garbled event line: {self.reason}) {_shown(self.line)}"


Heard = EventLine | Garbled


class Decoder:
    """Bytes read from the channel → what was heard, a whole line at a time."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._pending = bytearray()
        self._too_long = False  # dropping the rest of an overlong line

    def feed(self, data: bytes) -> list[Heard]:
        heard: list[Heard] = []
        searched = len(self._pending)  # what is pending holds no newline
        self._pending += data
        while (end := self._pending.find(b"\n", searched)) >= 0:
            line = bytes(self._pending[:end])
            del self._pending[: end + 1]
            searched = 0
            if self._too_long:
                self._too_long = False
            else:
                heard.append(_heard(line))
        if len(self._pending) > self.max_line:
            if not self._too_long:
                text = bytes(self._pending[:_SHOWN]).decode(errors="replace")
                heard.append(Garbled(text, f"a line longer than {self.max_line} bytes"))
                self._too_long = True
            self._pending.clear()
        return heard

    def end(self) -> list[Heard]:
        """At the end of the channel: a line left without its newline was cut short."""
        rest, self._pending = bytes(self._pending), bytearray()
        if not rest or self._too_long:
            return []
        reason = "cut short: the channel closed mid-line (the child died while writing)"
        return [Garbled(rest.decode(errors="replace"), reason)]


def _heard(line: bytes) -> Heard:
    try:
        body = decode(line)
    except NotAnEvent as exc:
        return Garbled(exc.line, exc.reason)
    return EventLine(body, line.decode()[len(PREFIX) :])


def read(pipe: BinaryIO) -> Iterator[Heard]:
    """Everything heard on the channel's read end until it ends; closes it."""
    decoder = Decoder()
    with pipe:
        while chunk := pipe.read(_CHUNK):
            yield from decoder.feed(chunk)
    yield from decoder.end()


async def aread(pipe: BinaryIO) -> AsyncIterator[Heard]:
    """:func:`read` on the running event loop."""
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), pipe)
    try:
        decoder = Decoder()
        while chunk := await stream.read(_CHUNK):
            for heard in decoder.feed(chunk):
                yield heard
        for heard in decoder.end():
            yield heard
    finally:
        transport.close()


def _shown(line: str) -> str:
    return line if len(line) <= _SHOWN else line[:_SHOWN] + "…"
