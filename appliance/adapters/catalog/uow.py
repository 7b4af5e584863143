"""The SQLite catalog: a workspace-scoped unit of work over one transaction.

Every repository is built for the unit of work's workspace and every query it runs
names ``self.ws``; there is no way to run a query without naming the workspace,
which is the tenant-isolation chokepoint.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from appliance.adapters.catalog.database import Database
from appliance.adapters.catalog.repo_accounts import (
    SqliteAuditChain,
    SqliteMembers,
    SqliteTokens,
    SqliteUsers,
    SqliteWorkspaces,
)
from appliance.adapters.catalog.repo_audit import SqliteAuditLog
from appliance.adapters.catalog.repo_datasets import SqliteDatasets
from appliance.adapters.catalog.repo_evaluations import SqliteEvaluations
from appliance.adapters.catalog.repo_files import SqliteFiles
from appliance.adapters.catalog.repo_jobs import SqliteIdempotency, SqliteJobs, SqliteScheduling
from appliance.adapters.catalog.repo_labels import SqliteLabelSchemas
from appliance.adapters.catalog.repo_models import SqliteModels
from appliance.adapters.catalog.repo_reviews import SqliteReviews
from appliance.adapters.catalog.repo_storage import SqliteStorage
from appliance.adapters.catalog.repo_streams import SqliteStreams
from appliance.adapters.catalog.repo_versions import SqliteVersions
from appliance.adapters.catalog.repo_webhooks import SqliteWebhooks
from appliance.errors import InvalidInput


class SqliteUnitOfWork:
    """One transaction in one workspace, its repositories built for that workspace."""

    def __init__(self, conn: aiosqlite.Connection, workspace: str) -> None:
        self.conn = conn
        self.ws = workspace
        self.now = now = time.time()
        self.datasets = SqliteDatasets(conn, workspace, now)
        self.storage = SqliteStorage(conn, workspace, now)
        self.files = SqliteFiles(conn, workspace, now, self.storage)
        self.versions = SqliteVersions(conn, workspace, now)
        self.audit = SqliteAuditLog(conn, workspace, now)
        self.labels = SqliteLabelSchemas(conn, workspace, now)
        self.reviews = SqliteReviews(conn, workspace, now)
        self.streams = SqliteStreams(conn, workspace, now)
        self.models = SqliteModels(conn, workspace, now)
        self.evaluations = SqliteEvaluations(conn, workspace, now)
        self.webhooks = SqliteWebhooks(conn, workspace, now)
        self.jobs = SqliteJobs(conn, workspace, now)
        self.idempotency = SqliteIdempotency(conn, workspace, now)


class SqliteAccounts:
    """The box-wide unit of work: users, tokens, memberships, the audit chain."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.now = now = time.time()
        self.users = SqliteUsers(conn, now)
        self.tokens = SqliteTokens(conn, now)
        self.workspaces = SqliteWorkspaces(conn, now)
        self.members = SqliteMembers(conn, now)
        self.audit = SqliteAuditChain(conn, now)


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
            uow = SqliteUnitOfWork(conn, workspace)
            await conn.execute(
                "INSERT OR IGNORE INTO workspaces (id, created_at) VALUES (?, ?)",
                (workspace, uow.now),
            )
            yield uow

    @asynccontextmanager
    async def reading(self, workspace: str) -> AsyncIterator[SqliteUnitOfWork]:
        _check_workspace(workspace)
        async with self.db.read() as conn:
            yield SqliteUnitOfWork(conn, workspace)

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
            yield SqliteScheduling(conn, time.time())


def _check_workspace(workspace: str) -> None:
    if not workspace or not all(c.isalnum() or c in "-_" for c in workspace):
        raise InvalidInput(
            f"workspace id {workspace!r} is not valid", hint="use letters, digits, '-' and '_'"
        )
