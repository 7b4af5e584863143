"""Request bodies are what they say they are, and no deeper than the appliance decodes."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from appliance.errors import NestedTooDeeply, UnsupportedMediaType

JSON = "application/json"
#: Levels of objects and arrays a JSON body may nest. The decoder recurses per level
#: (Python's stack ends near 1,000); no request of this API needs more than a handful.
MAX_JSON_DEPTH = 64

#: A JSON string, escapes and all (the unrolled form: ~15 ms per MB).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_TO_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def media_type(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json(given: str) -> bool:
    return given == JSON or given.endswith("+json")


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether a JSON text opens more than ``limit`` levels of objects and arrays.

    Without recursing: strings are cut out, the brackets kept, and each pass removes
    the innermost pairs; an opener left after ``limit`` passes was deeper."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", body).translate(_TO_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):
            # Fully paired off; what is left ("]]...[[") is of a text that is not
            # JSON, and only a run of unclosed openers is deep.
            return b"[" * (limit + 1) in brackets
        brackets = inner
    return b"[" in brackets


def value_deeper_than(value: Any, limit: int) -> bool:
    """Whether a decoded value (dicts and lists) nests more than ``limit`` levels."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return False


def check_json_depth(body: bytes) -> None:
    if nested_deeper_than(body, MAX_JSON_DEPTH):
        raise NestedTooDeeply(MAX_JSON_DEPTH)


async def require_json(request: Request[Any, Any, Any]) -> None:
    """A handler that decodes a JSON body (its ``data``) gets one sent as JSON:
    litestar alone would parse any body, whatever its content type says; and the
    body is no deeper than ``MAX_JSON_DEPTH`` before litestar decodes it."""
    if "data" not in request.route_handler.parsed_fn_signature.parameters:
        return
    given = media_type(request)
    if not is_json(given):
        raise UnsupportedMediaType(given, (JSON,))
    check_json_depth(await request.body())
