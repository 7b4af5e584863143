"""Users, tokens, memberships and workspaces: the rows outside any one tenant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from appliance.adapters.catalog.repo import BoxRepo
from appliance.adapters.catalog.repo_audit import append_audit, audit_head, check_audit_chain
from appliance.domain.audit_chain import ChainCheck, Checkpoint
from appliance.domain.identity import Token, User, Workspace
from appliance.errors import Conflict, NotFound

_USER = "id, username, is_admin, created_at, disabled_at"
_TOKEN = "id, user_id, kind, name, created_at, expires_at, revoked_at, last_used_at"
_WS = "id, description, quota_bytes, created_at"


def _user(r: Any) -> User:
    return User(r[0], r[1], bool(r[2]), r[3], r[4])


def _token(r: Any) -> Token:
    return Token(*r)


def _ws(r: Any) -> Workspace:
    return Workspace(*r)


class SqliteUsers(BoxRepo):
    async def count(self) -> int:
        cur = await self.conn.execute("SELECT COUNT(*) FROM users")
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def create(self, username: str, password_hash: str, is_admin: bool) -> User:
        try:
            cur = await self.conn.execute(
                "INSERT INTO users (username, password_hash, is_admin, created_at)"
                " VALUES (?, ?, ?, ?)",
                (username, password_hash, int(is_admin), self.now),
            )
        except aiosqlite.IntegrityError:
            raise Conflict(f"user {username!r} already exists") from None
        assert cur.lastrowid is not None
        return User(cur.lastrowid, username, is_admin, self.now)

    async def by_name(self, username: str) -> tuple[User, str] | None:
        cur = await self.conn.execute(
            f"SELECT {_USER}, password_hash FROM users WHERE username = ?", (username,)
        )
        r = await cur.fetchone()
        return (_user(r), r[5]) if r else None

    async def by_id(self, user_id: int) -> User | None:
        cur = await self.conn.execute(f"SELECT {_USER} FROM users WHERE id = ?", (user_id,))
        r = await cur.fetchone()
        return _user(r) if r else None

    async def list(self) -> list[User]:
        cur = await self.conn.execute(f"SELECT {_USER} FROM users ORDER BY username")
        return [_user(r) for r in await cur.fetchall()]


class SqliteTokens(BoxRepo):
    async def add(
        self,
        token_id: str,
        user_id: int | None,
        kind: str,
        name: str,
        secret_hash: str,
        expires_at: float,
    ) -> Token:
        await self.conn.execute(
            "INSERT INTO tokens (id, user_id, kind, name, secret_hash, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_id, user_id, kind, name, secret_hash, self.now, expires_at),
        )
        return Token(token_id, user_id, kind, name, self.now, expires_at)

    async def get(self, token_id: str) -> tuple[Token, str] | None:
        cur = await self.conn.execute(
            f"SELECT {_TOKEN}, secret_hash FROM tokens WHERE id = ?", (token_id,)
        )
        r = await cur.fetchone()
        return (_token(r[:8]), r[8]) if r else None

    async def of(self, user_id: int, kind: str = "pat") -> list[Token]:
        cur = await self.conn.execute(
            f"SELECT {_TOKEN} FROM tokens WHERE user_id = ? AND kind = ? ORDER BY created_at",
            (user_id, kind),
        )
        return [_token(r) for r in await cur.fetchall()]

    async def revoke(self, token_id: str) -> None:
        await self.conn.execute(
            "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (self.now, token_id),
        )

    async def revoke_kind(self, kind: str) -> None:
        await self.conn.execute(
            "UPDATE tokens SET revoked_at = ? WHERE kind = ? AND revoked_at IS NULL",
            (self.now, kind),
        )

    async def touch(self, token_id: str) -> None:
        await self.conn.execute(
            "UPDATE tokens SET last_used_at = ? WHERE id = ?", (self.now, token_id)
        )


class SqliteWorkspaces(BoxRepo):
    async def create(self, ws_id: str, description: str) -> Workspace:
        try:
            await self.conn.execute(
                "INSERT INTO workspaces (id, description, created_at) VALUES (?, ?, ?)",
                (ws_id, description, self.now),
            )
        except aiosqlite.IntegrityError:
            raise Conflict(f"workspace {ws_id!r} already exists") from None
        return Workspace(ws_id, description, None, self.now)

    async def ensure(self, ws_id: str) -> None:
        await self.conn.execute(
            "INSERT OR IGNORE INTO workspaces (id, created_at) VALUES (?, ?)", (ws_id, self.now)
        )

    async def get(self, ws_id: str) -> Workspace:
        cur = await self.conn.execute(f"SELECT {_WS} FROM workspaces WHERE id = ?", (ws_id,))
        r = await cur.fetchone()
        if r is None:
            raise NotFound("workspace", ws_id)
        return _ws(r)

    async def exists(self, ws_id: str) -> bool:
        cur = await self.conn.execute("SELECT 1 FROM workspaces WHERE id = ?", (ws_id,))
        return await cur.fetchone() is not None

    async def set_quota(self, ws_id: str, quota_bytes: int | None) -> None:
        await self.conn.execute(
            "UPDATE workspaces SET quota_bytes = ? WHERE id = ?", (quota_bytes, ws_id)
        )

    async def with_webhooks(self) -> list[str]:
        cur = await self.conn.execute(
            "SELECT DISTINCT workspace_id FROM webhooks WHERE deleted_at IS NULL"
            " ORDER BY workspace_id"
        )
        return [str(r[0]) for r in await cur.fetchall()]

    async def list(self) -> list[Workspace]:
        cur = await self.conn.execute(f"SELECT {_WS} FROM workspaces ORDER BY id")
        return [_ws(r) for r in await cur.fetchall()]


class SqliteMembers(BoxRepo):
    async def role(self, ws_id: str, user_id: int) -> str | None:
        cur = await self.conn.execute(
            "SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?",
            (ws_id, user_id),
        )
        r = await cur.fetchone()
        return str(r[0]) if r else None

    async def of_user(self, user_id: int) -> list[tuple[str, str]]:
        cur = await self.conn.execute(
            "SELECT workspace_id, role FROM memberships WHERE user_id = ? ORDER BY workspace_id",
            (user_id,),
        )
        return [(r[0], r[1]) for r in await cur.fetchall()]

    async def set_role(self, ws_id: str, user_id: int, role: str | None) -> None:
        if role is None:
            await self.conn.execute(
                "DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?", (ws_id, user_id)
            )
            return
        await self.conn.execute(
            "INSERT INTO memberships (workspace_id, user_id, role, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role,"
            " updated_at = excluded.updated_at",
            (ws_id, user_id, role, self.now),
        )

    async def list(self, ws_id: str) -> list[tuple[User, str]]:
        cur = await self.conn.execute(
            f"SELECT {', '.join('u.' + c.strip() for c in _USER.split(','))}, m.role"
            " FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.workspace_id = ? ORDER BY u.username",
            (ws_id,),
        )
        return [(_user(r), r[5]) for r in await cur.fetchall()]


class SqliteAuditChain(BoxRepo):
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
        await append_audit(self.conn, ws, actor, action, target, outcome, detail, self.now)

    async def check(self, checkpoints: Sequence[Checkpoint] = ()) -> ChainCheck:
        return await check_audit_chain(self.conn, checkpoints)

    async def head(self) -> tuple[int, str] | None:
        return await audit_head(self.conn)
