"""The annotation event stream: batches of label changes in (JSON or msgpack), and
the stream's consumer offset out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Router, get, post
from litestar.exceptions import ValidationException
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, FromQuery

from appliance.domain.access import Permission as P
from appliance.domain.labels.events import MAX_EVENTS, MAX_OFFSET
from appliance.errors import NestedTooDeeply, UnsupportedMediaType
from appliance.services import label_events
from appliance.web.access import CtxDep, GrantDep, needs
from appliance.web.media import (
    JSON,
    MAX_JSON_DEPTH,
    check_json_depth,
    media_type,
    value_deeper_than,
)

EV = "/workspaces/{ws:str}/datasets/{ds:str}/annotation-events"
MSGPACK = ("application/msgpack", "application/x-msgpack")
ACCEPTED = (JSON, *MSGPACK)


def decode_batch(given: str, body: bytes) -> list[Any]:
    """The events of a body: ``{"events": [...]}``, or (msgpack) a bare array."""
    if given not in ACCEPTED:
        raise UnsupportedMediaType(given, ACCEPTED)
    if given == JSON:
        check_json_depth(body)
    try:
        value = msgspec.json.decode(body) if given == JSON else msgspec.msgpack.decode(body)
    except msgspec.MsgspecError as exc:
        raise ValidationException(f"the body is not valid {given}: {exc}") from None
    except RecursionError:  # msgpack only: a JSON body was measured above
        raise NestedTooDeeply(MAX_JSON_DEPTH) from None
    if given != JSON and value_deeper_than(value, MAX_JSON_DEPTH):
        raise NestedTooDeeply(MAX_JSON_DEPTH)
    if isinstance(value, list) and given != JSON:
        return value
    if not isinstance(value, dict) or not isinstance(value.get("events"), list):
        raise ValidationException('the body is a map {"events": [event, ...]}')
    if len(value) > 1:
        unknown = sorted(str(k) for k in value if k != "events")
        raise ValidationException(f"unknown field(s) beside events: {', '.join(unknown)}")
    return value["events"]  # type: ignore[no-any-return]


_EVENT = Schema(
    type=OpenAPIType.OBJECT,
    required=["id", "file", "op"],
    properties={
        "id": Schema(type=OpenAPIType.STRING, min_length=1, max_length=200),
        "file": Schema(type=OpenAPIType.STRING, description="a path in the working area"),
        "op": Schema(type=OpenAPIType.STRING, enum=["set", "add", "clear"]),
        "labels": Schema(type=OpenAPIType.OBJECT, description="set: an ahoy.labels/1 document"),
        "objects": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(type=OpenAPIType.OBJECT),
            description="add: objects appended to the current labels",
        ),
        "offset": Schema(
            type=OpenAPIType.INTEGER,
            minimum=0,
            maximum=MAX_OFFSET,
            description="producer position",
        ),
        "at": Schema(type=OpenAPIType.NUMBER, minimum=0, description="unix seconds"),
    },
    additional_properties=False,  # parse_events refuses unknown fields
)


@dataclass
class _BatchOperation(Operation):
    """Declares the body the handler decodes itself (litestar sees no ``data``)."""

    def __post_init__(self) -> None:
        batch = Schema(
            type=OpenAPIType.OBJECT,
            required=["events"],
            properties={
                "events": Schema(type=OpenAPIType.ARRAY, items=_EVENT, max_items=MAX_EVENTS)
            },
            additional_properties=False,
        )
        self.request_body = RequestBody(
            content={JSON: OpenAPIMediaType(schema=batch)},
            required=True,
            description="JSON as shown; or application/msgpack (application/x-msgpack): "
            "the same map, or a bare array of events; events may use the legacy "
            "positional integer keys (docs/annotation.md)",
        )


@post(
    EV,
    opt=needs(P.LABEL_WRITE),
    status_code=200,
    operation_class=_BatchOperation,
    summary="Apply a batch of annotation events to a stream, idempotent by event id",
)
async def send_events(
    request: Request[Any, Any, Any],
    ctx: CtxDep,
    grant: GrantDep,
    ds: FromPath[str],
    stream: FromQuery[str],
) -> dict[str, Any]:
    given = media_type(request)
    if given not in ACCEPTED:  # before reading a byte of the body
        raise UnsupportedMediaType(given, ACCEPTED)
    events = decode_batch(given, await request.body())
    result = await label_events.ingest(ctx, grant.workspace, ds, stream, events, grant.actor)
    return result.as_dict()


@get(
    EV + "/{stream:str}",
    opt=needs(P.DATASET_READ),
    summary="A stream's consumer offset (resume after it), event count and last event",
)
async def stream_state(
    ctx: CtxDep, grant: GrantDep, ds: FromPath[str], stream: FromPath[str]
) -> Mapping[str, Any]:
    return await label_events.stream_state(ctx, grant.workspace, ds, stream)


router = Router(path="/v1", route_handlers=[send_events, stream_state], tags=["annotation events"])
