"""Numbers in a query string: bounded, declared once.

SQLite integers are signed 64-bit, so a number past them that reached a query was
a 500. Every numeric query parameter is one of the types below, or declares its own
``ge``/``le``: litestar then refuses anything outside with a 400, and the OpenAPI
document shows the bounds. ``check_query_bounds`` refuses to build an app with a
numeric query parameter that has none, so a new one cannot be left open.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Litestar
from litestar.constants import RESERVED_KWARGS
from litestar.params import Parameter, ParameterKwarg
from litestar.typing import FieldDefinition

from appliance.web.pagination import MAX_LIMIT

INT64_MAX = 2**63 - 1
#: Unix seconds up to the year 9999: any real moment, and finite.
MAX_UNIX_SECONDS = 253_402_300_799.0

#: A page's size (``?limit=``).
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description=f"items per page, 1..{MAX_LIMIT}")]
#: A position in a job's recorded events (``?after=``): only those after it.
After = Annotated[int, Parameter(ge=0, le=INT64_MAX, description="a sequence number; 0 for all")]
#: A moment in unix seconds (``?since=``), if given.
Since = Annotated[float | None, Parameter(ge=0, le=MAX_UNIX_SECONDS, description="unix seconds")]


def _numeric(field: FieldDefinition) -> bool:
    arms = [arm.annotation for arm in field.inner_types] if field.is_union else [field.annotation]
    return any(
        isinstance(arm, type) and issubclass(arm, (int, float)) and not issubclass(arm, bool)
        for arm in arms
    )


def _bounded(kwarg: Any) -> bool:
    if not isinstance(kwarg, ParameterKwarg):
        return False
    low = kwarg.ge if kwarg.ge is not None else kwarg.gt
    high = kwarg.le if kwarg.le is not None else kwarg.lt
    return low is not None and high is not None


def check_query_bounds(app: Litestar) -> None:
    """Every numeric query parameter of every handler has both bounds."""
    for route in app.routes:
        path_params = set(getattr(route, "path_parameters", ()))
        for handler in getattr(route, "route_handlers", []):
            dependencies = handler.resolve_dependencies()
            for name, field in handler.parsed_fn_signature.parameters.items():
                if name in RESERVED_KWARGS or name in dependencies or name in path_params:
                    continue
                kwarg = field.kwarg_definition
                if getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None):
                    continue
                if _numeric(field) and not _bounded(kwarg):
                    raise RuntimeError(
                        f"{route.path}: query parameter {name!r} of {handler.handler_name} "
                        "needs bounds: use appliance.web.queries (Limit, After, ...) "
                        "or Parameter(ge=..., le=...)"
                    )
