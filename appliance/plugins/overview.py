"""One answer for clients: every plugin (loaded or not, and why) and the tiers."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from appliance.plugins.registry import plugins
from appliance.plugins.tiers import cached_container_runtime, tiers


def overview(kinds: Collection[str]) -> dict[str, Any]:
    """``{plugins: [{name, version, status, error, models, ...}], tiers: {...}}``.
    Blocking (the first call imports the plugins, and the container runtime is
    asked on the command line): call it off the event loop."""
    found = plugins()
    return {
        "plugins": [f.as_dict() for f in found.found],
        "tiers": tiers(found, kinds, cached_container_runtime()),
    }
