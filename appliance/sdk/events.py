"""The annotation event stream: send batches of label changes, read a stream's
consumer offset, and replay a JSON-lines file of events with resume.

    client.send_annotation_events(None, "photos", "studio", [
        {"id": "a-1", "file": "img/001.jpg", "op": "set", "labels": {"objects": [...]}},
        {"id": "a-2", "file": "img/002.jpg", "op": "clear"},
    ])                                           # {stream, accepted, duplicates, offset, ...}
    client.annotation_stream(None, "photos", "studio")["offset"]   # resume after this

The event format (named or legacy positional keys) is in docs/annotation.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from appliance.domain.labels.events import offset_of, with_offset
from appliance.errors import InvalidInput
from appliance.progress import NoProgress, Progress
from appliance.sdk.errors import ApiError
from appliance.sdk.transport import Transport

ENCODINGS = {"msgpack": "application/msgpack", "json": "application/json"}
BATCH = 1000


class EventsApi(Transport):
    def send_annotation_events(
        self,
        ws: str | None,
        dataset: str,
        stream: str,
        events: Sequence[Mapping[Any, Any]],
        *,
        encoding: str = "msgpack",
    ) -> dict[str, Any]:
        """Apply one batch to ``stream`` → ``{stream, accepted, duplicates, offset,
        changed}``. All or nothing: a problem in any event refuses the batch
        (``ApiError`` 400 ``events-rejected``, each problem in ``problem["problems"]``).
        Events the stream already has (by id) are skipped as duplicates."""
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding is one of {sorted(ENCODINGS)}")
        body = {"events": list(events)}
        data = msgspec.msgpack.encode(body) if encoding == "msgpack" else msgspec.json.encode(body)
        return dict(
            self._json(
                "POST",
                self._ws(ws, "datasets", dataset, "annotation-events"),
                params={"stream": stream},
                data=data,
                headers={"Content-Type": ENCODINGS[encoding]},
            )
        )

    def annotation_stream(self, ws: str | None, dataset: str, stream: str) -> dict[str, Any]:
        """``{stream, offset, events, last_event_id, updated_at}``; ``offset`` is the
        highest position applied (None: nothing yet): resume after it."""
        path = self._ws(ws, "datasets", dataset, "annotation-events", stream)
        return dict(self._json("GET", path))


def send_jsonl(
    client: EventsApi,
    ws: str | None,
    dataset: str,
    stream: str,
    source: Path,
    *,
    batch: int = BATCH,
    resume: bool = True,
    encoding: str = "msgpack",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Send a file of events, one JSON object per line, in batches of ``batch``.

    An event without an ``offset`` is given its place in the file (0 for the first
    event), so a file replays to the same positions every time. With ``resume``,
    events at or below the stream's offset are not sent again. A refused batch
    raises with each problem named by file and line; the batches before it stay
    applied, and running again resumes after them."""
    progress = progress or NoProgress()
    if batch < 1:
        raise InvalidInput("a batch holds at least one event")
    floor = client.annotation_stream(ws, dataset, stream)["offset"] if resume else None
    todo = sum(1 for _, ev in _events(source) if not _below(ev, floor))
    report: dict[str, Any] = {"stream": stream, "events": 0, "skipped": 0, "sent": 0}
    report |= {"accepted": 0, "duplicates": 0, "offset": floor}
    progress.start("events", todo, unit="events")
    pending: list[tuple[int, dict[Any, Any]]] = []
    for line, event in _events(source):
        report["events"] += 1
        if _below(event, floor):
            report["skipped"] += 1
            continue
        pending.append((line, event))
        if len(pending) >= batch:
            _send(client, ws, dataset, stream, source, pending, encoding, report, progress)
            pending = []
    if pending:
        _send(client, ws, dataset, stream, source, pending, encoding, report, progress)
    progress.finish()
    return report


def _below(event: Mapping[Any, Any], floor: int | None) -> bool:
    """At or below the stream's offset: applied before (an invalid offset is sent,
    for the appliance to name the problem)."""
    offset = offset_of(event)
    return floor is not None and offset is not None and offset <= floor


def _events(source: Path) -> Iterator[tuple[int, dict[Any, Any]]]:
    """(line number, event with an offset) for each non-blank line."""
    place = 0
    with open(source, encoding="utf-8") as f:
        for line, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                event = json.loads(text)
            except ValueError as exc:
                raise InvalidInput(f"{source}:{line}: not a JSON event: {exc}") from None
            if not isinstance(event, dict):
                raise InvalidInput(f"{source}:{line}: an event is a JSON object")
            if offset_of(event) is None and not _has_offset(event):
                event = with_offset(event, place)
            place += 1
            yield line, event


def _has_offset(event: dict[Any, Any]) -> bool:
    return "offset" in event or "5" in event


def _send(
    client: EventsApi,
    ws: str | None,
    dataset: str,
    stream: str,
    source: Path,
    pending: list[tuple[int, dict[Any, Any]]],
    encoding: str,
    report: dict[str, Any],
    progress: Progress,
) -> None:
    try:
        got = client.send_annotation_events(
            ws, dataset, stream, [e for _, e in pending], encoding=encoding
        )
    except ApiError as exc:
        raise _by_line(exc, source, [line for line, _ in pending]) from None
    report["sent"] += len(pending)
    report["accepted"] += got["accepted"]
    report["duplicates"] += got["duplicates"]
    report["offset"] = got["offset"]
    progress.advance(len(pending))


_INDEX = re.compile(r"^events\[(\d+)\]$")


def _by_line(exc: ApiError, source: Path, lines: list[int]) -> ApiError:
    """A refused batch's problems, named by the file's lines instead of batch indexes."""
    problems = exc.problem.get("problems")
    if exc.code != "events-rejected" or not isinstance(problems, list):
        return exc
    named = []
    for p in problems:
        m = _INDEX.match(str(p.get("path", "")))
        where = f"{source}:{lines[int(m[1])]}" if m and int(m[1]) < len(lines) else p.get("path")
        named.append({"path": where, "problem": p.get("problem")})
    shown = "; ".join(f"{p['path']}: {p['problem']}" for p in named[:20])
    more = f" (and {len(named) - 20} more)" if len(named) > 20 else ""
    detail = f"events refused, lines {lines[0]}-{lines[-1]}: {shown}{more}"
    hint = "fix these lines and run again: the batches before them were applied and are skipped"
    return ApiError(
        exc.status,
        exc.code,
        detail,
        hint=hint,
        title=exc.title,
        problem={**exc.problem, "problems": named},
    )
