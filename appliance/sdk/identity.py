"""Identity endpoints: setup, sessions, tokens, users, workspaces, members, audit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from appliance.sdk.transport import Transport, q


class IdentityApi(Transport):
    # --- unauthenticated ---------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``GET /healthz``: the supervised children's state."""
        return dict(self._json("GET", "/healthz"))

    def setup(self, setup_token: str, username: str, password: str) -> dict[str, Any]:
        """One-time setup with the box's setup token → ``{user, token}``."""
        body = {"setup_token": setup_token, "username": username, "password": password}
        return dict(self._json("POST", "/v1/setup", json=body))

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Create a session (``POST /v1/sessions``) and use its token from now on.

        Returns ``{token, expires_at, user}``.
        """
        body = {"username": username, "password": password}
        session = dict(self._json("POST", "/v1/sessions", json=body))
        self.token = session["token"]
        return session

    # --- any token ---------------------------------------------------------
    def logout(self) -> None:
        """Revoke the token this client uses (``DELETE /v1/sessions/current``)."""
        self._json("DELETE", "/v1/sessions/current")
        self.token = None

    def me(self) -> dict[str, Any]:
        """``{user: {username, is_admin}, workspaces: [{id, role}]}``."""
        return dict(self._json("GET", "/v1/me"))

    def list_tokens(self) -> list[dict[str, Any]]:
        """Your personal tokens, without their secrets."""
        return list(self._items("/v1/tokens"))

    def create_token(self, name: str, expires_in_days: int = 90) -> dict[str, Any]:
        """A personal access token → ``{id, name, token, expires_at}``; the secret is
        shown only in this answer."""
        body = {"name": name, "expires_in_days": expires_in_days}
        return dict(self._json("POST", "/v1/tokens", json=body))

    def revoke_token(self, token_id: str | int) -> None:
        self._json("DELETE", f"/v1/tokens/{q(token_id)}")

    # --- box admin ---------------------------------------------------------
    def list_users(self) -> list[dict[str, Any]]:
        return list(self._items("/v1/users"))

    def create_user(self, username: str, password: str, is_admin: bool = False) -> dict[str, Any]:
        body = {"username": username, "password": password, "is_admin": is_admin}
        return dict(self._json("POST", "/v1/users", json=body))

    def verify_audit(self) -> dict[str, Any]:
        """Check the audit hash chain → ``{ok, entries, broken_at, reason}``."""
        return dict(self._json("GET", "/v1/audit/verify"))

    # --- workspaces and members ----------------------------------------------
    def list_workspaces(self) -> list[dict[str, Any]]:
        """The workspaces you belong to."""
        return list(self._items("/v1/workspaces"))

    def create_workspace(self, ws_id: str, description: str = "") -> dict[str, Any]:
        """Box admin only; the creator becomes its owner."""
        body = {"id": ws_id, "description": description}
        return dict(self._json("POST", "/v1/workspaces", json=body))

    def get_workspace(self, ws: str | None = None) -> dict[str, Any]:
        """``{id, description, role, quota_bytes, used_bytes}``."""
        return dict(self._json("GET", self._ws(ws)))

    def list_members(self, ws: str | None = None) -> list[dict[str, Any]]:
        return list(self._items(self._ws(ws, "members")))

    def set_member(self, ws: str | None, username: str, role: str) -> dict[str, Any]:
        """Add a member or change their role → ``{username, role}``."""
        return dict(self._json("PUT", self._ws(ws, "members", username), json={"role": role}))

    def remove_member(self, ws: str | None, username: str) -> None:
        self._json("DELETE", self._ws(ws, "members", username))

    def audit_log(self, ws: str | None = None, **filters: Any) -> Iterator[dict[str, Any]]:
        """The workspace's audit entries, newest first, across all pages."""
        return self._items(self._ws(ws, "audit"), filters)
