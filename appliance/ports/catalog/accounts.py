"""The box-wide repositories: users, tokens, workspaces and memberships, the audit
chain over every workspace, and the jobs of every workspace as the scheduler sees them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from appliance.domain.audit_chain import ChainCheck, Checkpoint
from appliance.domain.identity import Token, User, Workspace


class Users(Protocol):
    async def count(self) -> int: ...
    async def create(self, username: str, password_hash: str, is_admin: bool) -> User:
        """Raises Conflict when the name is taken."""

    async def by_name(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash."""

    async def by_id(self, user_id: int) -> User | None: ...
    async def list(self) -> list[User]:
        """By username."""


class Tokens(Protocol):
    async def add(
        self,
        token_id: str,
        user_id: int | None,
        kind: str,
        name: str,
        secret_hash: str,
        expires_at: float,
    ) -> Token: ...
    async def get(self, token_id: str) -> tuple[Token, str] | None:
        """The token and the hash of its secret."""

    async def of(self, user_id: int, kind: str = "pat") -> list[Token]:
        """The user's tokens of ``kind``, oldest first."""

    async def revoke(self, token_id: str) -> None: ...
    async def revoke_kind(self, kind: str) -> None:
        """Revoke every token of ``kind``."""

    async def touch(self, token_id: str) -> None:
        """Record that the token was used now."""


class Workspaces(Protocol):
    async def create(self, ws_id: str, description: str) -> Workspace:
        """Raises Conflict when it exists."""

    async def ensure(self, ws_id: str) -> None:
        """Create the row if there is none."""

    async def get(self, ws_id: str) -> Workspace:
        """Raises NotFound."""

    async def exists(self, ws_id: str) -> bool: ...
    async def set_quota(self, ws_id: str, quota_bytes: int | None) -> None: ...
    async def with_webhooks(self) -> list[str]:
        """Workspaces that have at least one live (not deleted) webhook."""

    async def list(self) -> list[Workspace]:
        """By id."""


class Members(Protocol):
    async def role(self, ws_id: str, user_id: int) -> str | None:
        """The user's role in the workspace; None: not a member."""

    async def of_user(self, user_id: int) -> list[tuple[str, str]]:
        """(workspace, role) of each membership, by workspace."""

    async def set_role(self, ws_id: str, user_id: int, role: str | None) -> None:
        """``role`` None ends the membership."""

    async def list(self, ws_id: str) -> list[tuple[User, str]]:
        """The workspace's members and their roles, by username."""


class AuditChain(Protocol):
    """The audit log as one hash chain over every workspace."""

    async def record(
        self,
        ws: str | None,
        actor: str,
        action: str,
        target: str,
        outcome: str = "ok",
        **detail: Any,
    ) -> None:
        """Append one chained entry, in workspace ``ws`` (None: the box)."""

    async def check(self, checkpoints: Sequence[Checkpoint] = ()) -> ChainCheck:
        """Walk the whole chain, holding it against signed ``checkpoints``."""

    async def head(self) -> tuple[int, str] | None:
        """The newest chained entry's (id, hash); None while nothing is chained."""
