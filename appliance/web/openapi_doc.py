"""The OpenAPI document says what the server does, so a client (or a fuzzer) that
follows it is never refused for following it.

litestar builds the document from the handlers; this module adds what it cannot
see: who needs a token (each handler's access policy), the bodies a handler reads
as a stream, request bodies exactly as msgspec decodes them (unknown keys refused,
constraints inside lists and maps), and integer bounds as the integers the server
checks (litestar writes them as floats, and 2**63 - 1 as a float is 2**63, which
the catalog cannot hold).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.params import ParameterKwarg

BEARER = "bearer"
INT64 = (-(2**63), 2**63 - 1)


def raw_body(description: str, *media_types: str) -> type[Operation]:
    """An ``operation_class`` declaring a body the handler streams itself (litestar
    sees no ``data`` parameter, so it would document none)."""

    @dataclass
    class _RawBody(Operation):
        def __post_init__(self) -> None:
            binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
            self.request_body = RequestBody(
                content={m: OpenAPIMediaType(schema=binary) for m in media_types},
                required=True,
                description=description,
            )

    return _RawBody


def complete(app: Litestar) -> None:
    """Finish the (built, cached) document in place."""
    doc = app.openapi_schema
    _declare_security(app, doc)
    _query_bounds(app, doc)
    if doc.components.schemas:
        _exact_bodies(doc.components.schemas)
    for schema in _schemas(doc):
        _integer_bounds(schema)


def _operations(app: Litestar, doc: Any) -> Iterator[tuple[Any, Operation]]:
    """Each documented handler with its operation in the document."""
    for route in app.routes:
        item = (doc.paths or {}).get(getattr(route, "path_format", None))
        if item is None:
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", ()):
                operation = getattr(item, method.lower(), None)
                if operation is not None:
                    yield handler, operation


def _declare_security(app: Litestar, doc: Any) -> None:
    doc.components.security_schemes = {
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            description="a session token (POST /v1/sessions) or a personal API token",
        )
    }
    for handler, operation in _operations(app, doc):
        operation.security = [] if handler.opt.get("public") else [{BEARER: []}]


_BOUNDS = {"ge": "minimum", "gt": "exclusive_minimum", "le": "maximum", "lt": "exclusive_maximum"}


def _query_bounds(app: Litestar, doc: Any) -> None:
    """The bounds a query parameter declares, all of them (litestar drops a 0)."""
    for handler, operation in _operations(app, doc):
        declared = {
            p.name: p
            for p in operation.parameters or []
            if isinstance(p, Parameter) and p.param_in == "query"
        }
        for name, field in handler.parsed_fn_signature.parameters.items():
            kwarg = field.kwarg_definition
            parameter = declared.get(getattr(kwarg, "query", None) or name)
            if not isinstance(kwarg, ParameterKwarg) or parameter is None:
                continue
            for bound, key in _BOUNDS.items():
                value = getattr(kwarg, bound)
                if value is not None and getattr(parameter.schema, key, None) is None:
                    setattr(parameter.schema, key, value)


def _struct_types(cls: type = msgspec.Struct) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _struct_types(sub)


def _exact_bodies(schemas: dict[str, Schema]) -> None:
    """Replace litestar's schema of each body struct with msgspec's own: the one the
    server decodes with. litestar loses constraints inside lists and dicts and bounds
    of 0, and does not say that unknown fields are refused."""
    structs = [
        s
        for s in _struct_types()
        if isinstance(found := schemas.get(s.__name__), Schema) and found.title == s.__name__
    ]
    if not structs:
        return
    _, exact = msgspec.json.schema_components(structs, ref_template=REF)
    for name, schema in exact.items():
        schemas[name] = _from_json_schema(schema)


REF = "#/components/schemas/{name}"
_SPELLED = {"$ref": "ref", "not": "schema_not", "if": "schema_if", "else": "schema_else"}
_NESTED = {"items", "additional_properties", "property_names", "contains", "schema_not"}
_NESTED_LISTS = {"any_of", "one_of", "all_of", "prefix_items"}
_NESTED_MAPS = {"properties", "pattern_properties", "dependent_schemas"}


def _from_json_schema(node: Any) -> Any:
    """A JSON Schema (as msgspec writes it) as litestar's spec objects."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return Reference(ref=node["$ref"])
    spec: dict[str, Any] = {}
    for key, value in node.items():
        name = _SPELLED.get(key) or re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
        if name == "type":
            value = OpenAPIType(value)
        elif name in _NESTED:
            value = _from_json_schema(value)
        elif name in _NESTED_LISTS:
            value = [_from_json_schema(v) for v in value]
        elif name in _NESTED_MAPS:
            value = {k: _from_json_schema(v) for k, v in value.items()}
        spec[name] = value
    return Schema(**spec)


def _schemas(node: Any, seen: set[int] | None = None) -> Iterator[Schema]:
    """Every Schema in the document, nested ones too."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, Schema):
        yield node
    if is_dataclass(node) and not isinstance(node, type):
        for f in fields(node):
            yield from _schemas(getattr(node, f.name), seen)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _schemas(value, seen)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _schemas(value, seen)


def _is_integer(schema: Schema) -> bool:
    arms = [schema, *(schema.one_of or []), *(schema.any_of or [])]
    return any(isinstance(a, Schema) and a.type == OpenAPIType.INTEGER for a in arms)


def _integer_bounds(schema: Schema) -> None:
    if not _is_integer(schema):
        return
    for name in ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum"):
        value = getattr(schema, name)
        if isinstance(value, float) and value.is_integer():
            setattr(schema, name, min(max(int(value), INT64[0]), INT64[1]))
