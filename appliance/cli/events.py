"""`ahoy dataset events send|offset`: the annotation event stream from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from appliance.cli.common import JsonOpt, api, done, want_json
from appliance.cli.dataset import Name
from appliance.cli.output import BarProgress, out
from appliance.domain.wording import plural
from appliance.sdk.events import BATCH, send_jsonl

app = typer.Typer(
    help="Send annotation events to a dataset's stream; read its offset.",
    no_args_is_help=True,
)

Stream = Annotated[str, typer.Option("--stream", "-s", help="Stream name (a short slug).")]


@app.command("send")
def send(
    name: Name,
    source: Annotated[Path, typer.Argument(help="JSON lines: one event per line.")],
    stream: Stream,
    batch: Annotated[int, typer.Option(help="Events per request.")] = BATCH,
    resume: Annotated[
        bool, typer.Option(help="Skip events at or below the stream's offset (sent before).")
    ] = True,
    encoding: Annotated[str, typer.Option(help="'msgpack' or 'json' on the wire.")] = "msgpack",
    json_: JsonOpt = False,
) -> None:
    """Apply a file of annotation events in batches, idempotent by event id; a
    refused batch names each bad line, and running again resumes after the last
    batch applied."""
    bar = BarProgress(not want_json(json_))
    r: dict[str, Any] = api(
        lambda c: send_jsonl(
            c,
            None,
            name,
            stream,
            source,
            batch=batch,
            resume=resume,
            encoding=encoding,
            progress=bar,
        ),
        json_,
    )
    done(
        r,
        json_,
        lambda: out.print(
            f"{plural(r['events'], 'event')}: {r['accepted']} applied, "
            f"{plural(r['duplicates'], 'duplicate')}, "
            f"{r['skipped']} skipped (at or below the offset); stream {stream} of {name} "
            f"is at offset {_offset(r['offset'])}",
            markup=False,
        ),
    )


@app.command("offset")
def offset(name: Name, stream: Stream, json_: JsonOpt = False) -> None:
    """The stream's consumer offset (resume after it), event count and last event."""
    r: dict[str, Any] = api(lambda c: c.annotation_stream(None, name, stream), json_)
    done(
        r,
        json_,
        lambda: out.print(
            f"stream {stream} of {name}: offset {_offset(r['offset'])}, "
            f"{plural(r['events'], 'event')}, "
            f"last {r['last_event_id'] or '-'}",
            markup=False,
        ),
    )


def _offset(value: Any) -> str:
    return "none (nothing applied yet)" if value is None else str(value)
