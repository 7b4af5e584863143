"""Checks every blob adapter applies to the names it is handed.

Workspace ids and digests become file and object paths, so both are validated
before they touch a path: a digest like ``../../etc`` must never reach ``open``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from appliance.errors import BlobCorrupt, InvalidInput

_WORKSPACE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_DIGEST = re.compile(r"[0-9a-f]{64}")

HASH_ALGORITHM = "sha256"


def check_workspace(workspace: str) -> str:
    if not isinstance(workspace, str) or not _WORKSPACE.fullmatch(workspace):
        raise InvalidInput(
            f"workspace id {workspace!r} is not allowed",
            hint="use 1-128 characters from A-Z, a-z, 0-9, '_' and '-'",
        )
    return workspace


def check_digest(sha256: str) -> str:
    if not isinstance(sha256, str) or not _DIGEST.fullmatch(sha256):
        raise InvalidInput(
            f"{sha256!r} is not a sha256 digest",
            hint="pass 64 lowercase hexadecimal characters",
        )
    return sha256


def check_digests(digests: Iterable[str]) -> list[str]:
    """Validated digests, duplicates dropped, first-seen order kept."""
    return list(dict.fromkeys(check_digest(d) for d in digests))


def verify(sha256: str, data: bytes | bytearray | memoryview) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise BlobCorrupt(sha256, actual)
