"""Routes of the console: ``/`` and ``/console/`` answer its page, ``/console/static/``
its files, every answer under a strict Content-Security-Policy.

All are public: the page holds no data, and the API it calls checks every token.
None is in the OpenAPI document, which describes the /v1 API only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File, Redirect
from litestar.static_files import create_static_files_router

from appliance.web.access import public

STATIC = Path(__file__).parent / "static"

#: Only this origin's scripts, styles and connections; images also from object URLs
#: (blobs fetched with the token); no framing, no <base>, forms post here only.
CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def secure(response: Response[Any]) -> Response[Any]:
    """An ``after_request`` hook: litestar's static router takes no response headers."""
    response.headers.update(SECURITY_HEADERS)
    return response


#: The console changes with the appliance: revalidate rather than run stale code.
NO_CACHE = CacheControlHeader(no_cache=True)


@get("/", opt=public(), include_in_schema=False, sync_to_thread=False)
def root() -> Redirect:
    return Redirect(path="/console/")


@get("/console", opt=public(), include_in_schema=False, sync_to_thread=False)
def index() -> File:
    return File(STATIC / "index.html", content_disposition_type="inline", media_type="text/html")


static = create_static_files_router(
    path="/console/static",
    directories=[STATIC],
    opt=public(),
    include_in_schema=False,
    name="console-static",
    cache_control=NO_CACHE,
    after_request=secure,
)

router = Router(
    path="/",
    route_handlers=[root, index, static],
    after_request=secure,
    cache_control=NO_CACHE,
    include_in_schema=False,
)
