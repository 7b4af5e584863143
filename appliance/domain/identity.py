"""Users, tokens and memberships as plain values."""

from __future__ import annotations

from dataclasses import dataclass

TOKEN_KINDS = ("pat", "session", "setup")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    is_admin: bool
    created_at: float
    disabled_at: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"username": self.username, "is_admin": self.is_admin, "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    user_id: int | None
    kind: str
    name: str
    created_at: float
    expires_at: float
    revoked_at: float | None = None
    last_used_at: float | None = None

    def live(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
        }


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user, through one token."""

    user: User
    token_id: str

    @property
    def actor(self) -> str:
        return f"user:{self.user.username}"


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    description: str
    quota_bytes: int | None
    created_at: float

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "description": self.description,
            "quota_bytes": self.quota_bytes,
            "created_at": self.created_at,
        }


USERNAME_HINT = "use 1-64 lower-case letters, digits, '.', '-' or '_'"


def valid_username(name: str) -> bool:
    return (
        0 < len(name) <= 64
        and name[0].isalnum()
        and all(c.isascii() and (c.islower() or c.isdigit() or c in ".-_") for c in name)
    )
