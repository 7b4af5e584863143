"""What an API call can fail with: the server's RFC 9457 problem, or no server at all.

``ApiError`` subclasses the appliance's error root so the CLI prints and maps it
exactly like a local error (``message``, ``hint``, ``code``, ``exit_code``).
"""

from __future__ import annotations

import json
import tarfile
from typing import Any

import urllib3

from appliance.errors import ApplianceError

PROBLEM_PREFIX = "urn:ahoy:problem:"

#: HTTP status → CLI exit code; any other 5xx is 1, anything unlisted is 1.
EXIT_CODES = {400: 2, 401: 7, 403: 7, 404: 4, 409: 5, 413: 8, 422: 2}
#: Problem codes with an exit code of their own (as the local error class has).
CODE_EXIT_CODES = {"job-rejected": 9}

#: The code to report when a body carries no usable ``type``.
_DEFAULT_CODES = {
    400: "invalid-input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    422: "invalid-input",
}


def exit_code_for(status: int) -> int:
    return EXIT_CODES.get(status, 1)


class ApiError(ApplianceError):
    """The appliance answered with a non-2xx status.

    ``problem`` is the whole problem+json body (extension members included);
    ``code`` is the part of ``type`` after ``urn:ahoy:problem:``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        hint: str = "",
        title: str = "",
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail, hint=hint)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        self.problem: dict[str, Any] = problem or {}
        self.exit_code = CODE_EXIT_CODES.get(code, exit_code_for(status))

    @classmethod
    def from_problem(cls, status: int, body: bytes, reason: str = "") -> ApiError:
        """Parse a problem+json body; anything else still becomes a readable error."""
        problem: dict[str, Any] = {}
        try:
            parsed = json.loads(body) if body else {}
            if isinstance(parsed, dict):
                problem = parsed
        except (ValueError, UnicodeDecodeError):
            pass
        status = _int(problem.get("status"), status)
        kind = str(problem.get("type") or "")
        if kind.startswith(PROBLEM_PREFIX):
            code = kind[len(PROBLEM_PREFIX) :]
        else:
            code = _DEFAULT_CODES.get(status, "server-error" if status >= 500 else "http-error")
        title = str(problem.get("title") or reason or "")
        detail = str(problem.get("detail") or title or f"HTTP {status}")
        if not problem and body:
            snippet = body[:200].decode("utf-8", "replace").strip()
            detail = f"HTTP {status} {reason}: {snippet}".strip()
        hint = str(problem.get("hint") or _default_hint(status))
        return cls(status, code, detail, hint=hint, title=title, problem=problem)


class ApiUnavailable(ApiError):
    """Nothing answers at the appliance's URL (connection refused, unreachable)."""

    def __init__(self, url: str, cause: str) -> None:
        super().__init__(
            0,
            "unavailable",
            f"the appliance at {url} is not answering: {cause}",
            hint="start the appliance with `make run` / `ahoy serve`",
        )
        self.url = url
        self.exit_code = 3


class ApiTimeout(ApiError):
    """The appliance accepted the connection but did not answer in time."""

    def __init__(self, url: str, seconds: float | None) -> None:
        super().__init__(
            0,
            "timeout",
            f"the appliance at {url} did not answer within {seconds} s",
            hint="it may be busy; retry, or raise the client timeout",
        )
        self.exit_code = 1


class TransferError(ApiError):
    """A local check on bytes sent or received failed (changed file, bad archive)."""

    def __init__(self, code: str, detail: str, *, hint: str = "") -> None:
        super().__init__(0, code, detail, hint=hint)
        self.exit_code = 1


#: What breaks a tar stream read from the appliance: its bytes, or the connection.
ARCHIVE_BREAKS = (tarfile.TarError, urllib3.exceptions.HTTPError)


def broken_archive(exc: Exception, what: str, files: int, again: str, resume: str) -> TransferError:
    """``exc`` (one of ARCHIVE_BREAKS) as the error a pull or an export ends with:
    ``what`` could not be read (``again``), or the connection broke after ``files``
    files, the appliance gone mid-stream (``resume``)."""
    if isinstance(exc, tarfile.TarError):
        return TransferError("bad-archive", f"{what} could not be read: {exc}", hint=again)
    return TransferError(
        "incomplete-archive",
        f"the connection to the appliance broke after {files} files: {exc}",
        hint=resume,
    )


#: The hint of a 401 answered to a client that sent no token.
NOT_LOGGED_IN = (
    "you are not logged in: `ahoy login --url URL` (or set AHOY_TOKEN to a token from"
    " `ahoy token create`)"
)


def _default_hint(status: int) -> str:
    if status == 401:
        return "log in again with `ahoy login`"
    if status >= 500:
        return "see the appliance log (var/logs) for the cause"
    return ""


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and 100 <= value <= 599 else default
