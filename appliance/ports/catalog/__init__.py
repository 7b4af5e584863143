"""Catalog: the metadata store, used through a workspace-scoped unit of work.

``async with catalog.writing(ws) as uow`` is one transaction holding the write
lock (SQLite: ``BEGIN IMMEDIATE``); ``reading(ws)`` is a consistent snapshot.
The unit of work reaches one repository per aggregate (``uow.datasets``,
``uow.versions``, ``uow.jobs``, ...), each built for the workspace the unit of
work was opened for, so no caller can reach another tenant's rows.
``catalog.accounts()`` is the box-wide unit of work (users, tokens, workspaces,
memberships, the audit chain).

Every adapter passes the one contract suite in
``tests/integration/catalog_contract.py``. The SQLite adapter is the reference; a
PostgreSQL adapter must pass the same suite and compute the same fingerprints
(they are computed in the domain, never in SQL).

A repository's ``list`` comes last in its class: mypy reads ``list[...]`` in the
annotations after it as the method.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from appliance.domain.audit_chain import ChainCheck, Checkpoint
from appliance.domain.identity import Token, User, Workspace
from appliance.domain.records import ActiveJob
from appliance.ports.catalog.annotation import LabelSchemas, Reviews, Streams
from appliance.ports.catalog.audit import AuditLog
from appliance.ports.catalog.datasets import Datasets, Files, Versions
from appliance.ports.catalog.idempotency import Idempotency
from appliance.ports.catalog.jobs import Jobs
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
    """The box-wide unit of work: users, tokens, memberships, workspaces, and the
    audit chain (which spans every workspace)."""

    now: float

    async def count_users(self) -> int: ...
    async def create_user(self, username: str, password_hash: str, is_admin: bool) -> User: ...
    async def user_by_name(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash."""

    async def user_by_id(self, user_id: int) -> User | None: ...
    async def list_users(self) -> list[User]: ...
    async def add_token(
        self,
        token_id: str,
        user_id: int | None,
        kind: str,
        name: str,
        secret_hash: str,
        expires_at: float,
    ) -> Token: ...
    async def token(self, token_id: str) -> tuple[Token, str] | None:
        """The token and the hash of its secret."""

    async def tokens_of(self, user_id: int, kind: str = "pat") -> list[Token]: ...
    async def revoke_token(self, token_id: str) -> None: ...
    async def revoke_kind(self, kind: str) -> None: ...
    async def create_workspace(self, ws_id: str, description: str) -> Workspace: ...
    async def ensure_workspace_row(self, ws_id: str) -> None: ...
    async def workspace(self, ws_id: str) -> Workspace: ...
    async def has_workspace(self, ws_id: str) -> bool: ...
    async def all_workspaces(self) -> list[Workspace]: ...
    async def set_quota(self, ws_id: str, quota_bytes: int | None) -> None: ...
    async def role_of(self, ws_id: str, user_id: int) -> str | None: ...
    async def memberships_of(self, user_id: int) -> list[tuple[str, str]]: ...
    async def members(self, ws_id: str) -> list[tuple[User, str]]: ...
    async def set_role(self, ws_id: str, user_id: int, role: str | None) -> None: ...
    async def audit_box(
        self,
        ws: str | None,
        actor: str,
        action: str,
        target: str,
        outcome: str = "ok",
        **detail: Any,
    ) -> None: ...
    async def check_audit(self, checkpoints: Sequence[Checkpoint] = ()) -> ChainCheck:
        """Walk the whole chain, holding it against signed ``checkpoints``."""

    async def audit_head(self) -> tuple[int, str] | None:
        """The newest chained entry's (id, hash); None while nothing is chained."""

    async def workspaces_with_webhooks(self) -> list[str]:
        """Workspaces that have at least one live (not deleted) webhook."""

    async def fail_interrupted_jobs(self, why: str) -> int:
        """Fail running jobs and queued in-process jobs (after a restart); return how many."""

    async def active_jobs(self) -> list[ActiveJob]:
        """Governed jobs queued or running, box-wide, oldest first (the scheduler's view)."""


class Catalog(Protocol):
    name: str

    def writing(self, workspace: str) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def reading(self, workspace: str) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def accounts(self, *, write: bool = False) -> AbstractAsyncContextManager[Accounts]: ...
    async def close(self) -> None: ...
