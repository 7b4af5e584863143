"""The SQLite catalog: a workspace-scoped unit of work over one transaction.

Every repository method reads ``self.ws``; there is no way to run a query without
naming the workspace, which is the tenant-isolation chokepoint.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from appliance.adapters.catalog.database import Database
from appliance.adapters.catalog.repo_accounts import AccountsRepo
from appliance.adapters.catalog.repo_audit import AuditRepo
from appliance.adapters.catalog.repo_datasets import DatasetRepo
from appliance.adapters.catalog.repo_evaluations import EvaluationRepo
from appliance.adapters.catalog.repo_events import EventRepo
from appliance.adapters.catalog.repo_files import FileRepo
from appliance.adapters.catalog.repo_gc import GcRepo
from appliance.adapters.catalog.repo_jobs import JobRepo, SchedulingRepo
from appliance.adapters.catalog.repo_labels import LabelRepo
from appliance.adapters.catalog.repo_models import ModelRepo
from appliance.adapters.catalog.repo_reviews import ReviewRepo
from appliance.adapters.catalog.repo_versions import VersionRepo
from appliance.adapters.catalog.repo_webhooks import WebhookRepo
from appliance.errors import InvalidInput


class SqliteUnitOfWork(
    DatasetRepo,
    FileRepo,
    VersionRepo,
    GcRepo,
    AuditRepo,
    JobRepo,
    WebhookRepo,
    LabelRepo,
    ReviewRepo,
    EventRepo,
    ModelRepo,
    EvaluationRepo,
):
    def __init__(self, conn: aiosqlite.Connection, workspace: str, writable: bool) -> None:
        self.conn = conn
        self.ws = workspace
        self.writable = writable
        self.now = time.time()


class SqliteAccounts(AccountsRepo):
    """The box-wide unit of work: users, tokens, memberships, the audit chain."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.now = time.time()


class SqliteScheduling(SchedulingRepo):
    """The scheduler's box-wide view of the queue (read only)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn


class SqliteCatalog:
    """Catalog adapter on one SQLite file."""

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.db = Database(path)

    async def open(self) -> SqliteCatalog:
        await self.db.open()
        return self

    async def close(self) -> None:
        await self.db.close()

    @asynccontextmanager
    async def writing(self, workspace: str) -> AsyncIterator[SqliteUnitOfWork]:
        _check_workspace(workspace)
        async with self.db.write() as conn:
            uow = SqliteUnitOfWork(conn, workspace, writable=True)
            await uow.ensure_workspace()
            yield uow

    @asynccontextmanager
    async def reading(self, workspace: str) -> AsyncIterator[SqliteUnitOfWork]:
        _check_workspace(workspace)
        async with self.db.read() as conn:
            yield SqliteUnitOfWork(conn, workspace, writable=False)

    @asynccontextmanager
    async def accounts(self, *, write: bool = False) -> AsyncIterator[SqliteAccounts]:
        if write:
            async with self.db.write() as conn:
                yield SqliteAccounts(conn)
        else:
            async with self.db.read() as conn:
                yield SqliteAccounts(conn)

    @asynccontextmanager
    async def scheduling(self) -> AsyncIterator[SqliteScheduling]:
        async with self.db.read() as conn:
            yield SqliteScheduling(conn)


def _check_workspace(workspace: str) -> None:
    if not workspace or not all(c.isalnum() or c in "-_" for c in workspace):
        raise InvalidInput(
            f"workspace id {workspace!r} is not valid", hint="use letters, digits, '-' and '_'"
        )
