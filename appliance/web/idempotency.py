"""``Idempotency-Key`` on creating POSTs: a retried request replays the first answer.

The key is scoped to (workspace, caller). The answer is recorded only when the
call succeeded, so a failed attempt may be retried with the same key. See
``appliance.services.idempotency`` for how the answer is kept with what was made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response

from appliance.errors import InvalidInput
from appliance.services import idempotency
from appliance.services.context import ServiceContext
from appliance.services.idempotency import Answer, AnsweredBefore, Once
from appliance.services.workspaces import Grant

HEADER = "idempotency-key"


async def claim_of(request: Request[Any, Any, Any], grant: Grant, status: int) -> Once | None:
    """The request's claim on its Idempotency-Key; None without one."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= 200:
        raise InvalidInput("Idempotency-Key must be 1-200 characters")
    fingerprint = hashlib.sha256(
        request.method.encode() + request.url.path.encode() + await request.body()
    ).hexdigest()
    return Once(grant.principal.user.username, key, fingerprint, status)


def _replay(answer: Answer) -> Response[Any]:
    return Response(
        answer.value(), status_code=answer.status, headers={"Idempotency-Replayed": "true"}
    )


async def exactly_once(
    request: Request[Any, Any, Any],
    ctx: ServiceContext,
    grant: Grant,
    create: Callable[[Once | None], Awaitable[Any]],
    status: int = 201,
) -> Response[Any]:
    """Answer a creating POST whose service takes the claim (``create(once)``
    passes it on) and records the answer in its own transaction."""
    once = await claim_of(request, grant, status)
    if once is not None and (seen := await idempotency.answer_of(ctx, grant.workspace, once)):
        return _replay(seen)
    try:
        return Response(await create(once), status_code=status)
    except AnsweredBefore as raced:
        return _replay(raced.answer)
