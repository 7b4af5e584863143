"""``Idempotency-Key`` on creating POSTs: a retried request replays the first answer.

The key is scoped to (workspace, caller). The answer is remembered only when the
call succeeded, so a failed attempt may be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response

from appliance.errors import InvalidInput
from appliance.services.context import ServiceContext
from appliance.services.workspaces import Grant

HEADER = "idempotency-key"


async def idempotent(
    request: Request[Any, Any, Any],
    ctx: ServiceContext,
    grant: Grant,
    create: Callable[[], Awaitable[Any]],
    status: int = 201,
) -> Response[Any]:
    key = request.headers.get(HEADER)
    if key is None:
        return Response(await create(), status_code=status)
    if not 0 < len(key) <= 200:
        raise InvalidInput("Idempotency-Key must be 1-200 characters")
    fingerprint = hashlib.sha256(
        request.method.encode() + request.url.path.encode() + await request.body()
    ).hexdigest()
    who = grant.principal.user.username
    async with ctx.catalog.reading(grant.workspace) as uow:
        seen = await uow.idempotency.answer(who, key)
    if seen is not None:
        if seen[0] != fingerprint:
            raise InvalidInput(
                "this Idempotency-Key was used for a different request",
                hint="use a new key for a new request",
            )
        return Response(
            json.loads(seen[2]), status_code=seen[1], headers={"Idempotency-Replayed": "true"}
        )
    value = await create()
    body = json.dumps(value, default=str).encode()
    async with ctx.catalog.writing(grant.workspace) as uow:
        await uow.idempotency.remember(who, key, fingerprint, status, body)
    return Response(value, status_code=status)
