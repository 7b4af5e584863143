"""Roles and permissions: which role may do what inside one workspace.

Every endpoint declares one permission; the web chokepoint checks it against the
caller's role in the workspace named by the path. Box-wide acts (creating users
and workspaces, verifying the audit chain) need the user's ``is_admin`` flag.
Box-wide reads that serve work inside workspaces (the box's capacity, its model
plugins) need a permission in at least one workspace: ``allows_somewhere``.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Permission(StrEnum):
    WORKSPACE_READ = "workspace.read"
    DATASET_READ = "dataset.read"
    DATASET_STAGE = "dataset.stage"
    DATASET_COMMIT = "dataset.commit"
    DATASET_CREATE = "dataset.create"
    DATASET_DELETE = "dataset.delete"
    STORAGE_MANAGE = "storage.manage"
    ERASURE_RUN = "erasure.run"
    MEMBER_READ = "member.read"
    MEMBER_MANAGE = "member.manage"
    AUDIT_READ = "audit.read"
    JOB_READ = "job.read"
    WEBHOOK_MANAGE = "webhook.manage"
    LABEL_WRITE = "label.write"
    LABEL_REVIEW = "label.review"
    JOB_SUBMIT = "job.submit"
    MODEL_READ = "model.read"
    MODEL_PROMOTE = "model.promote"


P = Permission

_VIEWER = frozenset({P.WORKSPACE_READ, P.DATASET_READ, P.JOB_READ, P.MEMBER_READ, P.MODEL_READ})
_ANNOTATOR = _VIEWER | {P.DATASET_STAGE, P.LABEL_WRITE}
_REVIEWER = _ANNOTATOR | {P.DATASET_COMMIT, P.LABEL_REVIEW, P.JOB_SUBMIT}
_ADMIN = _REVIEWER | {
    P.DATASET_CREATE,
    P.DATASET_DELETE,
    P.STORAGE_MANAGE,
    P.MEMBER_MANAGE,
    P.AUDIT_READ,
    P.WEBHOOK_MANAGE,
    P.MODEL_PROMOTE,
}
_OWNER = _ADMIN | {P.ERASURE_RUN}

ROLES: dict[str, frozenset[Permission]] = {
    "owner": _OWNER,
    "admin": _ADMIN,
    "reviewer": _REVIEWER,
    "annotator": _ANNOTATOR,
    "viewer": _VIEWER,
    # Edge agents (later): they see their workspace exists and pull what they are sent.
    "device": frozenset({P.WORKSPACE_READ}),
}

#: Roles only an owner may hand out or take away.
OWNER_ONLY_ROLES = frozenset({"owner", "admin"})


def allows(role: str, permission: Permission) -> bool:
    return permission in ROLES.get(role, frozenset())


def allows_somewhere(roles: Iterable[str], permission: Permission) -> bool:
    """Whether one of a user's roles (one per workspace) grants ``permission``."""
    return any(allows(role, permission) for role in roles)


def can_assign(actor_role: str, old_role: str | None, new_role: str | None) -> bool:
    """An admin manages the roles below admin; only an owner touches owners and admins."""
    if actor_role == "owner":
        return True
    if actor_role != "admin":
        return False
    return old_role not in OWNER_ONLY_ROLES and new_role not in OWNER_ONLY_ROLES
