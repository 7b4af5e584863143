"""The litestar app. For now: health and status; the versioned /v1 API grows here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar, get


def create_app(health: Callable[[], dict[str, Any]]) -> Litestar:
    """``health`` reports the supervised children; the app reads it, never owns them."""

    @get("/healthz", sync_to_thread=False)
    def healthz() -> dict[str, Any]:
        return health()

    @get("/v1/status", sync_to_thread=False)
    def status() -> dict[str, Any]:
        return {"product": "AHOY Perception", **health()}

    return Litestar(route_handlers=[healthz, status], openapi_config=None)
