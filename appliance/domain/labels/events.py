"""Annotation events: the stream that replaces the old pipeline's RabbitMQ consumer.

One event changes one file's labels in the working area:

    {"id": "cam3-000481",            # required, 1..200 chars, unique per stream
     "file": "night/cam3/0481.jpg",  # required, a file of the working area
     "op": "set",                    # set | add | clear
     "labels": {...},                # set: the whole ahoy.labels/1 document
     "objects": [...],               # add: objects appended to the current labels
     "offset": 481,                  # optional int >= 0: the producer's own position
     "at": 1767225600.0}             # optional unix seconds: when it was annotated

``clear`` leaves the file with no label document at all (unlabelled); a file
that was looked at and holds nothing is ``set`` to a document with no objects.

The old pipeline sent msgpack maps with positional integer keys; those are
accepted as they are, through the one table ``POSITIONAL`` (JSON, which has only
string keys, may spell them "0", "1", ...). An event uses one form, not both.

Parsing never stops at the first problem: every event's problem is collected as
an ``EventProblem(index, id, problem)`` so a refused batch names them all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from appliance.domain.labels.document import (
    LabelDocument,
    LabelError,
    LabelObject,
    parse_document,
    parse_object,
)
from appliance.domain.names import check_filename, check_name
from appliance.errors import InvalidFilename, InvalidInput

OPS = ("set", "add", "clear")
MAX_ID = 200
MAX_EVENTS = 100_000
MAX_OFFSET = 2**63 - 1  # SQLite integers are signed 64-bit
MAX_STREAM = 64

#: The legacy positional keys: what each integer key of an old producer's map means.
POSITIONAL: dict[int, str] = {
    0: "id",
    1: "file",
    2: "op",
    3: "labels",
    4: "objects",
    5: "offset",
    6: "at",
}
FIELDS = frozenset(POSITIONAL.values())
_POSITION_OF = {name: key for key, name in POSITIONAL.items()}
_MAP = "an event is a map of its fields"


@dataclass(frozen=True, slots=True)
class LabelEvent:
    index: int  # where it was in its batch
    id: str
    file: str
    op: str
    labels: LabelDocument | None = None
    objects: tuple[LabelObject, ...] = ()
    offset: int | None = None
    at: float | None = None


@dataclass(frozen=True, slots=True)
class EventProblem:
    index: int
    id: str | None
    problem: str

    def where(self) -> str:
        return f"events[{self.index}]"

    def text(self) -> str:
        return f"event {self.id!r}: {self.problem}" if self.id is not None else self.problem


def check_stream(name: str) -> str:
    """A stream name is a short slug: lowercase letters, digits, '-', '_' and '.'."""
    check_name("stream", name)
    ok = (
        0 < len(name) <= MAX_STREAM
        and name[0].isalnum()
        and all(c.isascii() and (c.islower() or c.isdigit() or c in "-_.") for c in name)
    )
    if not ok:
        raise InvalidInput(
            f"stream name {name!r} is not allowed",
            hint=f"use up to {MAX_STREAM} lowercase letters, digits, '-', '_' or '.', "
            "starting with a letter or digit",
        )
    return name


def named(raw: Any) -> dict[str, Any] | None:
    """The event's fields by name (positional keys translated); None if it is not a
    map, or mixes the two forms. Unknown keys are kept, under their own name."""
    if not isinstance(raw, Mapping):
        return None
    out: dict[str, Any] = {}
    forms = set()
    for key, value in raw.items():
        pos = _position(key)
        forms.add(pos is not None)
        name = POSITIONAL.get(pos, f"#{key}") if pos is not None else str(key)
        out[name] = value
    return None if len(forms) > 1 else out


def offset_of(raw: Any) -> int | None:
    """The producer offset an event carries, if it is a valid one (for resuming)."""
    fields = named(raw)
    value = fields.get("offset") if fields else None
    return value if _is_offset(value) else None


def with_offset(raw: Mapping[Any, Any], offset: int) -> dict[Any, Any]:
    """The event with ``offset`` set, in the event's own key form."""
    keys = list(raw)
    if keys and all(_position(k) is not None for k in keys):
        key: Any = _POSITION_OF["offset"]
        key = str(key) if isinstance(keys[0], str) else key
    else:
        key = "offset"
    return {**raw, key: offset}


def parse_events(raw: Sequence[Any]) -> tuple[list[LabelEvent], list[EventProblem]]:
    """Every event of a batch that is well formed, and a problem for each that is not
    (an id given twice in the batch is a problem of the later event)."""
    if len(raw) > MAX_EVENTS:
        return [], [EventProblem(MAX_EVENTS, None, f"a batch holds at most {MAX_EVENTS} events")]
    events: list[LabelEvent] = []
    problems: list[EventProblem] = []
    first: dict[str, int] = {}
    for index, item in enumerate(raw):
        fields = named(item)
        if fields is None:
            why = "mixes named and positional keys; use one form"
            problems.append(EventProblem(index, None, why if isinstance(item, Mapping) else _MAP))
            continue
        raw_id = fields.get("id")
        ident = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID else None
        if ident is not None and ident in first:
            problems.append(EventProblem(index, ident, f"its id is also event {first[ident]}'s"))
            continue
        if ident is not None:
            first[ident] = index
        try:
            events.append(_event(index, fields))
        except LabelError as exc:
            problems.append(EventProblem(index, ident, str(exc)))
    return events, problems


def _event(index: int, f: dict[str, Any]) -> LabelEvent:
    unknown = sorted(k for k in f if k not in FIELDS)
    if unknown:
        raise LabelError("fields", f"unknown {', '.join(unknown)}; known: {sorted(FIELDS)}")
    ident = f.get("id")
    if not (isinstance(ident, str) and 0 < len(ident) <= MAX_ID):
        raise LabelError("id", f"is required: a string of 1 to {MAX_ID} characters")
    file = f.get("file")
    if not isinstance(file, str):
        raise LabelError("file", "is required: a path in the working area")
    try:
        check_filename(file)
    except InvalidFilename as exc:
        raise LabelError("file", exc.reason) from None
    op = f.get("op")
    if op not in OPS:
        raise LabelError("op", f"{op!r} is not one of {', '.join(OPS)}")
    labels, objects = f.get("labels"), f.get("objects")
    if op != "set" and labels is not None:
        raise LabelError("labels", f"only 'set' takes a document; {op!r} does not")
    if op != "add" and objects is not None:
        raise LabelError("objects", f"only 'add' takes objects; {op!r} does not")
    doc = parse_document(labels, "labels") if op == "set" else None
    added: tuple[LabelObject, ...] = ()
    if op == "add":
        if not isinstance(objects, list) or not objects:
            raise LabelError("objects", "'add' needs a non-empty list of objects")
        added = tuple(parse_object(o, f"objects[{i}]") for i, o in enumerate(objects))
    offset = f.get("offset")
    if offset is not None and not _is_offset(offset):
        raise LabelError("offset", f"is an integer from 0 to {MAX_OFFSET}")
    at = f.get("at")
    if at is not None and not (
        isinstance(at, int | float) and not isinstance(at, bool) and math.isfinite(at) and at >= 0
    ):
        raise LabelError("at", "is a time in unix seconds (a number >= 0)")
    return LabelEvent(index, ident, file, op, doc, added, offset, None if at is None else float(at))


def _position(key: Any) -> int | None:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and key.isascii() and key.isdigit():
        return int(key)
    return None


def _is_offset(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_OFFSET
