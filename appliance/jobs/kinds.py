"""The registry of governed job kinds.

A kind validates its parameters, derives its resource request from them (the
governor admits on that), and runs in the worker process with a :class:`JobHandle`
for progress, events, artifacts and its child processes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.domain.governor import HostReading, ResourceRequest
from appliance.errors import InvalidInput

if TYPE_CHECKING:
    from appliance.jobs.handle import JobHandle
    from appliance.services.context import ServiceContext


@dataclass(frozen=True)
class JobKind:
    name: str
    summary: str
    #: Checks and normalises parameters; raises InvalidInput naming each bad one.
    validate: Callable[[dict[str, Any]], dict[str, Any]]
    #: What it asks of the box, given its parameters and the box (GPU or not).
    request: Callable[[dict[str, Any], HostReading], ResourceRequest]
    run: Callable[[JobHandle], Awaitable[dict[str, Any]]]
    #: Resolves references at submission (e.g. pins ``latest`` to a version number),
    #: so what runs is what was asked for when it was asked.
    prepare: Callable[[ServiceContext, str, dict[str, Any]], Awaitable[dict[str, Any]]] | None = (
        None
    )
    #: What a client needs to build the parameters (a form): choices and JSON Schemas.
    describe: Callable[[], dict[str, Any]] = lambda: {}


def registry() -> dict[str, JobKind]:
    """Built on demand (nothing at import time); plugins will add theirs here."""
    from appliance.jobs.augment import KIND as AUGMENT
    from appliance.jobs.benchmark import KIND as BENCHMARK
    from appliance.jobs.evaluate import KIND as EVALUATE
    from appliance.jobs.export import KIND as EXPORT
    from appliance.jobs.train import KIND as TRAIN
    from appliance.jobs.train_script import KIND as TRAIN_SCRIPT

    kinds = [AUGMENT, BENCHMARK, EVALUATE, EXPORT, TRAIN, TRAIN_SCRIPT]
    return {k.name: k for k in kinds}


def kind_of(name: str) -> JobKind:
    kinds = registry()
    if name not in kinds:
        raise InvalidInput(
            f"job kind {name!r} is not known", hint=f"use one of: {', '.join(sorted(kinds))}"
        )
    return kinds[name]
