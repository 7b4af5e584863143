"""The litestar app: the versioned /v1 API behind one security chokepoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar, MediaType, Request, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from appliance.services.context import ServiceContext
from appliance.web import console
from appliance.web.access import (
    DEPENDENCIES,
    OPENAPI_PATH,
    check_policies,
    chokepoint,
    public,
)
from appliance.web.docs_page import render_docs
from appliance.web.media import require_json
from appliance.web.openapi_doc import complete
from appliance.web.problems import EXCEPTION_HANDLERS, declare_problems
from appliance.web.queries import check_query_bounds
from appliance.web.routes import (
    annotate,
    blobs,
    datasets,
    events,
    identity,
    jobs,
    labels,
    models,
    versions,
    webhooks,
    workspaces,
)

API_VERSION = "1.0.0"


def create_app(
    ctx: ServiceContext,
    health: Callable[[], dict[str, Any]],
    extra_routers: list[Any] | None = None,
    governor: Any = None,
) -> Litestar:
    """``health`` reports the supervised children; the app reads it, never owns them.
    ``governor``: the probe, scheduler and worker `ahoy serve` runs jobs with (none:
    routes that start a job say the governor is not running)."""

    @get("/healthz", opt=public(), sync_to_thread=False, include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return health()

    @get("/v1/status", opt=public(), sync_to_thread=False, summary="Liveness and versions")
    def status() -> dict[str, Any]:
        return {"product": "AHOY Perception", "api_version": API_VERSION, **health()}

    @get("/v1/openapi.json", opt=public(), include_in_schema=False, sync_to_thread=False)
    def openapi(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return request.app.openapi_schema.to_schema()

    @get(
        "/v1/docs",
        opt=public(),
        include_in_schema=False,
        media_type=MediaType.HTML,
        sync_to_thread=False,
    )
    def docs(request: Request[Any, Any, Any]) -> str:
        return render_docs(request.app.openapi_schema.to_schema())

    app = Litestar(
        route_handlers=[
            healthz,
            status,
            openapi,
            docs,
            identity.router,
            workspaces.router,
            datasets.router,
            blobs.router,
            versions.router,
            labels.router,
            annotate.router,
            events.router,
            jobs.router,
            models.router,
            webhooks.router,
            console.router,
            *(extra_routers or []),
        ],
        guards=[chokepoint],
        before_request=require_json,  # after the guard: a stranger learns nothing
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="AHOY Perception API",
            version=API_VERSION,
            path=OPENAPI_PATH,
            render_plugins=[],
            description="Every call needs 'Authorization: Bearer <token>' "
            "unless marked public. Errors are application/problem+json (RFC 9457).",
        ),
        request_max_body_size=ctx.settings.max_request_bytes,
        state=State({"ctx": ctx, "governor": governor}),
    )
    check_policies(app)
    check_query_bounds(app)
    declare_problems(app)
    _build_schema(app)
    complete(app)
    return app


def _build_schema(app: Litestar) -> None:
    """Build the OpenAPI document once, now, and undo litestar's side effect of doing so.

    Building it adds the path parameters a handler does not take (``ws`` for most)
    to that handler's parsed signature, which its validation shares: every later
    400 would list a bogus ``'ws'`` error beside the real one."""
    handlers = [h for r in app.routes for h in getattr(r, "route_handlers", [])]
    saved = [
        (h.parsed_fn_signature.parameters, dict(h.parsed_fn_signature.parameters)) for h in handlers
    ]
    app.openapi_schema  # noqa: B018 (built and cached by litestar)
    for params, before in saved:
        params.clear()
        params.update(before)
