"""The job-kind contract: what a kind declares, and the handle its ``run`` is given.

A kind validates its parameters, derives its resource request from them (the
governor admits on that), and runs in the worker process with a :class:`JobHandle`
for progress, events, artifacts and its child processes. The composition root
builds the :class:`JobKinds` registry and hands it to the services; nothing
registers itself by being imported.

Ports name no service, so the services a job is given are a type parameter
(``C``): the application binds it to its ``ServiceContext`` (``appliance.jobs.kinds``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from appliance.domain.governor import HostReading, ResourceRequest
from appliance.domain.records import Job
from appliance.errors import InvalidInput

C = TypeVar("C")
C_co = TypeVar("C_co", covariant=True)


class JobHandle(Protocol[C_co]):
    """What a running job reports through and runs its child processes with.
    Everything it reports lands in the catalog, where the API and the live
    streams read it."""

    @property
    def ctx(self) -> C_co:
        """The services the job runs with."""

    @property
    def ws(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def job(self) -> Job:
        """The job as it was admitted (kind, params, request, devices, created_by)."""

    @property
    def params(self) -> dict[str, Any]: ...

    async def progress(self, done: int, total: int, unit: str, **extra: Any) -> None: ...
    async def event(self, kind: str, data: dict[str, Any]) -> None:
        """Record an event (``metrics``, ``epoch``, ...) in order; ``log`` lines too."""

    async def log(self, line: str) -> None: ...
    async def flush(self) -> None:
        """Write what was reported and not written yet (reports are batched)."""

    async def cancel_requested(self) -> bool: ...
    async def artifact(self, name: str, path: Path) -> dict[str, Any]:
        """Store a file the job made as a blob and list it under ``name``."""

    async def artifact_of_blob(self, name: str, sha256: str) -> dict[str, Any]:
        """List a blob the store already holds under ``name``."""

    async def set_pgid(self, pgid: int) -> None:
        """Record the process group doing the job's work: a cancel kills all of it."""

    async def run_process(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        on_event: Callable[[dict[str, Any]], Any] | None = None,
    ) -> int:
        """Run ``argv`` in its own recorded process group; its event lines go to
        ``on_event`` (or are recorded), every other line is the job's log. Returns
        the exit code; raises ``JobCancelled`` if it ended because of a cancel."""


def _nothing_to_describe() -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class JobKind(Generic[C]):
    name: str
    summary: str
    #: Checks and normalises parameters; raises InvalidInput naming each bad one.
    validate: Callable[[dict[str, Any]], dict[str, Any]]
    #: What it asks of the box, given its parameters and the box (GPU or not).
    request: Callable[[dict[str, Any], HostReading], ResourceRequest]
    #: Runs it to its result (in the worker process); raising ends it failed.
    run: Callable[[JobHandle[C]], Awaitable[dict[str, Any]]]
    #: Resolves references at submission (e.g. pins ``latest`` to a version number),
    #: so what runs is what was asked for when it was asked.
    prepare: Callable[[C, str, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None
    #: What a client needs to build the parameters (a form): choices and JSON Schemas.
    describe: Callable[[], dict[str, Any]] = _nothing_to_describe


class JobKinds(Generic[C]):
    """The kinds this appliance runs, by name; iterating yields their names."""

    def __init__(self, kinds: Iterable[JobKind[C]] = ()) -> None:
        self._kinds = {k.name: k for k in kinds}

    def get(self, name: str) -> JobKind[C]:
        """The kind called ``name``; InvalidInput naming the known ones otherwise."""
        if name not in self._kinds:
            known = ", ".join(sorted(self._kinds)) or "none is registered"
            raise InvalidInput(f"job kind {name!r} is not known", hint=f"use one of: {known}")
        return self._kinds[name]

    def all(self) -> list[JobKind[C]]:
        return list(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)
