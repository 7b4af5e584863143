"""Request bodies are what they say they are."""

from __future__ import annotations

from typing import Any

from litestar import Request

from appliance.errors import UnsupportedMediaType

JSON = "application/json"


def media_type(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_json(request: Request[Any, Any, Any]) -> None:
    """A handler that decodes a JSON body (its ``data``) gets one sent as JSON:
    litestar alone would parse any body, whatever its content type says."""
    if "data" not in request.route_handler.parsed_fn_signature.parameters:
        return
    given = media_type(request)
    if given != JSON and not given.endswith("+json"):
        raise UnsupportedMediaType(given, (JSON,))
