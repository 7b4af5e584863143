"""Catalog: the metadata store, used through a workspace-scoped unit of work.

``async with catalog.writing(ws) as uow`` is one transaction holding the write
lock (SQLite: ``BEGIN IMMEDIATE``); ``reading(ws)`` is a consistent snapshot.
The unit of work reaches one repository per aggregate (``uow.datasets``,
``uow.versions``, ``uow.jobs``, ...), each built for the workspace the unit of
work was opened for, so no caller can reach another tenant's rows. That holds
for row ids too: an id of another workspace is one this unit of work does not
have, whoever passes it. Reads find nothing; a write raises NotFound naming what
is missing (as for an id that names no row) or changes nothing, as its
docstring says.
``catalog.accounts()`` is the box-wide unit of work (users, tokens, workspaces,
memberships, the audit chain); ``catalog.scheduling()`` the scheduler's read-only
view of every workspace's queued and running jobs.

Every adapter passes the one contract suite in
``tests/integration/catalog_contract.py``. The SQLite adapter is the reference; a
PostgreSQL adapter must pass the same suite and compute the same fingerprints
(they are computed in the domain, never in SQL).

A repository's ``list`` comes last in its class: mypy reads ``list[...]`` in the
annotations after it as the method.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from appliance.ports.catalog.accounts import (
    AuditChain,
    Members,
    Tokens,
    Users,
    Workspaces,
)
from appliance.ports.catalog.annotation import LabelSchemas, Reviews, Streams
from appliance.ports.catalog.audit import AuditLog
from appliance.ports.catalog.datasets import Datasets, Files, Versions
from appliance.ports.catalog.idempotency import Idempotency
from appliance.ports.catalog.jobs import Jobs, Scheduling
from appliance.ports.catalog.models import Evaluations, Models
from appliance.ports.catalog.storage import Storage
from appliance.ports.catalog.webhooks import Webhooks


class UnitOfWork(Protocol):
    """One transaction inside workspace ``ws``."""

    ws: str

    @property
    def datasets(self) -> Datasets: ...
    @property
    def files(self) -> Files: ...
    @property
    def versions(self) -> Versions: ...
    @property
    def storage(self) -> Storage: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def labels(self) -> LabelSchemas: ...
    @property
    def reviews(self) -> Reviews: ...
    @property
    def streams(self) -> Streams: ...
    @property
    def models(self) -> Models: ...
    @property
    def evaluations(self) -> Evaluations: ...
    @property
    def webhooks(self) -> Webhooks: ...
    @property
    def jobs(self) -> Jobs: ...
    @property
    def idempotency(self) -> Idempotency: ...


class Accounts(Protocol):
    """The box-wide unit of work: rows outside any one tenant."""

    #: the time of this transaction (what it writes as created, updated or used)
    now: float

    @property
    def users(self) -> Users: ...
    @property
    def tokens(self) -> Tokens: ...
    @property
    def workspaces(self) -> Workspaces: ...
    @property
    def members(self) -> Members: ...
    @property
    def audit(self) -> AuditChain: ...


class Catalog(Protocol):
    name: str

    def writing(self, workspace: str) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def reading(self, workspace: str) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def accounts(self, *, write: bool = False) -> AbstractAsyncContextManager[Accounts]: ...
    def scheduling(self) -> AbstractAsyncContextManager[Scheduling]: ...
    async def close(self) -> None: ...
