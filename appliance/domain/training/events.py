"""Events a training subprocess reports to its supervisor, one JSON object a line.

Every line carries ``v`` (the vocabulary version), ``type`` and ``t`` (Unix time,
seconds), then the fields of its type. :func:`parse_event` is strict: an unknown
type or field, a missing field or a value of the wrong type is refused with
:class:`MalformedEvent`, so a half-written line or a stray print can never pass
for an event. Non-finite floats (a NaN loss) travel as ``null``.

Order of a run: ``started``, then ``progress``/``epoch``/``log`` as training goes,
then ``artifact`` lines, then exactly one of ``finished`` or ``failed``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

from appliance.errors import ApplianceError

VERSION = 1

FloatMap = dict[str, float | None]


class MalformedEvent(ApplianceError):
    """A line on the event channel that is not a well-formed event."""

    code = "malformed-training-event"

    def __init__(self, line: str, reason: str) -> None:
        shown = line if len(line) <= 200 else line[:200] + "…"
        super().__init__(f"not a training event ({reason}): {shown!r}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    type: ClassVar[str] = ""
    t: float = 0.0  # Unix time the worker wrote it


@dataclass(frozen=True, slots=True, kw_only=True)
class Started(Event):
    type: ClassVar[str] = "started"
    pid: int
    model: str  # catalog id or weights file name
    task: str
    epochs: int
    device: str  # as ultralytics was asked: cpu, 0, 0,1
    versions: dict[str, str] = field(default_factory=dict)  # python, torch, ultralytics


@dataclass(frozen=True, slots=True, kw_only=True)
class Epoch(Event):
    """One finished epoch (1-based), with the validation of that epoch."""

    type: ClassVar[str] = "epoch"
    epoch: int
    epochs: int
    train_losses: FloatMap  # box, cls, dfl (segment: + seg; pose: + pose, kobj)
    val_losses: FloatMap
    precision: float | None
    recall: float | None
    map50: float | None
    map50_95: float | None
    lr: float | None
    seconds: float
    metrics: FloatMap = field(default_factory=dict)  # every metric as ultralytics names it


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress(Event):
    """Batches done within the current epoch (sent at most a few times a second)."""

    type: ClassVar[str] = "progress"
    epoch: int
    done: int
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact(Event):
    type: ClassVar[str] = "artifact"
    name: str  # best.pt, last.pt, results.csv, args.yaml, train.log, results.png …
    path: str
    size: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Log(Event):
    type: ClassVar[str] = "log"
    line: str
    level: str = "info"  # info | warning | error


@dataclass(frozen=True, slots=True, kw_only=True)
class Finished(Event):
    """Training completed; ``metrics`` are those of best.pt on the validation split."""

    type: ClassVar[str] = "finished"
    metrics: FloatMap
    best_epoch: int
    epochs_run: int
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(Event):
    type: ClassVar[str] = "failed"
    error: str
    hint: str = ""
    kind: str = ""  # the exception's class name


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls for cls in (Started, Epoch, Progress, Artifact, Log, Finished, Failed)
}
TERMINAL = (Finished, Failed)


def format_event(event: Event) -> str:
    """One line of JSON (no newline) for ``event``; non-finite floats become null."""
    body: dict[str, Any] = {"v": VERSION, "type": event.type}
    for f in dataclasses.fields(event):
        body[f.name] = _finite(getattr(event, f.name))
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def parse_event(line: str) -> Event:
    """The event on ``line``; raises :class:`MalformedEvent` if it is not one."""
    try:
        body = json.loads(line)
    except ValueError as e:
        raise MalformedEvent(line, f"invalid JSON: {e}") from None
    if not isinstance(body, dict):
        raise MalformedEvent(line, "not a JSON object")
    if body.pop("v", None) != VERSION:
        raise MalformedEvent(line, f"missing or unsupported version (expected v={VERSION})")
    kind = body.pop("type", None)
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise MalformedEvent(line, f"unknown event type {kind!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise MalformedEvent(line, f"unknown field(s) for {kind}: {', '.join(unknown)}")
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if name not in body:
            if required:
                raise MalformedEvent(line, f"{kind} lacks field {name!r}")
            continue
        if not _conforms(body[name], hints[name]):
            raise MalformedEvent(line, f"{kind}.{name} is not {_describe(hints[name])}")
    return cls(**body)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _conforms(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_conforms(value, arg) for arg in typing.get_args(hint))
    if origin is dict:
        key, item = typing.get_args(hint)
        return isinstance(value, dict) and all(
            _conforms(k, key) and _conforms(v, item) for k, v in value.items()
        )
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")


class ProgressThrottle:
    """Lets batch progress through at most once every ``interval`` seconds (4/s by
    default). The caller passes the clock reading, so this stays pure."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self._last: float | None = None

    def due(self, now: float) -> bool:
        """True if a progress event may be sent at ``now`` (and records it as sent)."""
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True
