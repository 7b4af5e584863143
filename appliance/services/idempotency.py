"""Idempotency keys: a creating call sent again with the same key gets the first
call's answer, and nothing is made twice.

A service that makes something takes an optional ``Once`` and, inside its own
write transaction, calls ``claim`` first and ``keep`` (with its answer) just
before the commit. The answer is then durable exactly when the thing is: a crash
leaves both or neither. Of two calls racing with one key, the second finds the
first's answer in its own transaction, since writers take turns, and raises
``AnsweredBefore``, which rolls back everything it did.

A key belongs to one workspace (the unit of work's) and one principal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from appliance.errors import InvalidInput
from appliance.ports.catalog import UnitOfWork
from appliance.services.context import ServiceContext


@dataclass(frozen=True)
class Once:
    """A claim on an idempotency key: who sent it, the key, a fingerprint of the
    request it is for, and the status the answer carries."""

    principal: str
    key: str
    fingerprint: str
    status: int


@dataclass(frozen=True)
class Answer:
    status: int
    #: the answer as JSON, the bytes recorded with the key
    body: bytes

    def value(self) -> Any:
        return json.loads(self.body)


class AnsweredBefore(Exception):
    """The key already has an answer: raised inside the creating transaction, so
    that it rolls back; the caller replays ``answer``."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("this idempotency key already has an answer")
        self.answer = answer


async def _recorded(uow: UnitOfWork, once: Once) -> Answer | None:
    seen = await uow.idempotency.answer(once.principal, once.key)
    if seen is None:
        return None
    fingerprint, status, body = seen
    if fingerprint != once.fingerprint:
        raise InvalidInput(
            "this Idempotency-Key was used for a different request",
            hint="use a new key for a new request",
        )
    return Answer(status, body)


async def claim(uow: UnitOfWork, once: Once | None) -> None:
    """First in the creating transaction: raises AnsweredBefore when the key has
    an answer, InvalidInput when it was used for another request."""
    if once is not None and (answer := await _recorded(uow, once)) is not None:
        raise AnsweredBefore(answer)


async def keep(uow: UnitOfWork, once: Once | None, value: Any) -> None:
    """Last in the creating transaction: record ``value`` (JSON-encodable) as the
    key's answer, committed with what the transaction made."""
    if once is not None:
        body = json.dumps(value, default=str).encode()
        await uow.idempotency.remember(
            once.principal, once.key, once.fingerprint, once.status, body
        )


async def answer_of(ctx: ServiceContext, ws: str, once: Once) -> Answer | None:
    """The key's recorded answer, read without waiting for the write lock: a
    retry of a finished call is answered here."""
    async with ctx.catalog.reading(ws) as uow:
        return await _recorded(uow, once)
