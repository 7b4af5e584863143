"""Every error leaves the API as RFC 9457 problem+json, mapped in this one place."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from appliance import errors as e

log = logging.getLogger("ahoy.web")

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:ahoy:problem:"

#: Most specific first: the first class that matches gives the status.
STATUS: list[tuple[type[e.ApplianceError], int]] = [
    (e.Unauthenticated, 401),
    (e.Forbidden, 403),
    (e.NotFound, 404),
    (e.BlobMissing, 404),  # referenced, but its bytes are gone from the store
    (e.NothingToCommit, 409),
    (e.VersionHeld, 409),
    (e.Conflict, 409),
    (e.RequestTimeout, 408),
    (e.QuotaExceeded, 413),
    (e.PayloadTooLarge, 413),
    (e.UrlTooLong, 414),
    (e.UnsupportedMediaType, 415),
    (e.TooManyRequests, 429),
    (e.NestedTooDeeply, 400),  # malformed, like bad JSON
    (e.LabelsRejected, 400),
    (e.ReviewIncomplete, 400),
    (e.HashMismatch, 422),
    (e.JobRejected, 422),
    (e.EventsRejected, 400),  # the batch body is not valid
    (e.ImportRejected, 422),
    (e.InvalidInput, 422),
    (e.ConfigError, 422),
    (e.StorageFull, 507),
    (e.BlobStoreUnavailable, 503),
    (e.BlobCorrupt, 500),
    (e.BlobStoreError, 503),
    (e.ServiceFailed, 503),
]

_EXTRA_FIELDS = (
    "problems",
    "missing",
    "needed",
    "remaining",
    "permission",
    "holders",
    "kind",
    "ref",
    "location",
    "affected",
    "retry_after",
    "limit",
)

_HTTP_CODES = {
    400: "invalid-input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}


def status_of(exc: e.ApplianceError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def problem(
    status: int, code: str, title: str, detail: str, hint: str = "", **extra: Any
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if hint:
        body["hint"] = hint
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": 'Bearer realm="ahoy"'} if status == 401 else {}
    if "retry_after" in body:
        headers["Retry-After"] = str(body["retry_after"])
    if status == 408:
        headers["Connection"] = "close"  # the rest of the body is not waited for
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def appliance_error(_: Request[Any, Any, Any], exc: e.ApplianceError) -> Response[Any]:
    status = status_of(exc)
    extra = {k: getattr(exc, k) for k in _EXTRA_FIELDS if hasattr(exc, k)}
    if "problems" in extra:
        extra["problems"] = [{"path": p, "problem": why} for p, why in extra["problems"]]
    return problem(status, exc.code, type(exc).__name__, exc.message, exc.hint, **extra)


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code = _HTTP_CODES.get(status, "http-error" if status < 500 else "internal-error")
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationException) and exc.extra:
        extra["errors"] = exc.extra
    detail = exc.detail if status < 500 else "the appliance failed to answer this request"
    hint = "check the request against /v1/openapi.json" if status in (400, 405, 415) else ""
    if status == 413:
        hint = "the appliance's request limit is max_request_bytes; send less per request"
    answer = problem(status, code, code.replace("-", " "), str(detail), hint, **extra)
    answer.headers.update(exc.headers or {})  # litestar's 405 names the methods in Allow
    return answer


def unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(
        500,
        "internal-error",
        "internal error",
        "the appliance failed to answer this request",
        "see the appliance log; nothing was changed unless the answer said so",
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    e.ApplianceError: appliance_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}


@dataclass
class Problem:
    """An RFC 9457 problem; some carry more fields (``problems``, ``remaining``, ...)."""

    type: str
    title: str
    status: int
    detail: str
    hint: str | None = None


#: The refusals any handler may answer, declared once for the OpenAPI document.
PROBLEM_RESPONSES = {
    400: "Malformed request: bad JSON, an unknown field, a value of the wrong type",
    401: "No valid token: missing, malformed, unknown, expired or revoked",
    403: "Your role (or not being a box admin) does not allow this",
    404: "Not found; a workspace you are not a member of is not found either",
    409: "Conflicts with the current state (held, nothing to commit, last owner, ...)",
    408: "The request body stopped arriving (nothing for body_idle_seconds)",
    413: "The body is over the request limit, or over the workspace's quota",
    414: "The URL is longer than max_url_bytes",
    415: "The body's content type is not accepted here",
    422: "Well-formed but refused: names, hashes, roles, ranges",
    429: "Too many failed logins, or uploads in flight; Retry-After says when to retry",
    503: "The blob store is not answering",
}


def declare_problems(app: Litestar) -> None:
    """Give every documented handler the problem responses, as problem+json."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not getattr(handler, "include_in_schema", False):
                continue
            declared = dict(handler.responses or {})
            for status, description in PROBLEM_RESPONSES.items():
                if status == handler.status_code or status in declared:
                    continue
                declared[status] = ResponseSpec(
                    Problem,
                    description=description,
                    media_type=PROBLEM_JSON,
                    generate_examples=False,
                )
            handler.responses = declared


__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "MediaType",
    "declare_problems",
    "problem",
    "status_of",
]
