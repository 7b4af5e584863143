"""Cursor pagination: ``?limit=&cursor=``, answered as ``{items, next_cursor}``.

A cursor is the opaque, url-safe encoding of the last key a page ended on, so a
page stays correct while rows are added before or after it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from appliance.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 1000


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise InvalidInput(
            "the cursor is not valid", hint="pass back next_cursor from the previous page"
        ) from None


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be 1..{MAX_LIMIT}, not {limit}", hint="e.g. limit=100")
    return limit


def page(
    items: Sequence[T],
    key: Callable[[T], Any],
    cursor: str | None,
    limit: int,
    *,
    descending: bool = False,
    encode: Callable[[T], Any] = lambda x: x,
) -> dict[str, Any]:
    """``items`` are sorted by ``key`` (descending if told); return the page after
    ``cursor``."""
    check_limit(limit)
    start = 0
    if cursor is not None:
        after = decode_cursor(cursor)
        try:
            start = next(
                (
                    i
                    for i, item in enumerate(items)
                    if (key(item) < after if descending else key(item) > after)
                ),
                len(items),
            )
        except TypeError:
            raise InvalidInput("the cursor does not belong to this list") from None
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return {
        "items": [encode(x) for x in chunk],
        "next_cursor": encode_cursor(key(chunk[-1])) if more and chunk else None,
    }


def int_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise InvalidInput("the cursor does not belong to this list")
    return value
