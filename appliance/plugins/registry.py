"""Discovering model plugins: every ``ahoy.models`` entry point is loaded and its
manifest checked. A plugin that fails to import or declares a bad manifest is
listed as unavailable with the reason; it never stops the appliance.

Plugins are found on first use and cached for the life of the process (installing
one takes a restart of ``ahoy serve``); nothing happens at import time. Plugins of
the appliance's own distribution are taken first, then the others by name: a
plugin claiming a name or a model id that is already taken is refused whole.
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from appliance.errors import InvalidInput
from appliance.plugins.contract import (
    GROUP,
    TASKS,
    Manifest,
    ModelInfo,
    ModelPlugin,
    hooks_of,
)
from appliance.plugins.schema import schema_problems

#: The distribution whose plugins come first (the built-in catalog).
OWN_DISTRIBUTION = "ahoy-perception"
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MODEL_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}(/[a-z0-9][a-z0-9._-]{0,63})?")
AVAILABLE = "available"
UNAVAILABLE = "unavailable"


class UnknownModel(InvalidInput):
    """A model id no available plugin trains."""

    code = "unknown-model"

    def __init__(self, model_id: str, known: Iterable[str], broken: Iterable[str] = ()) -> None:
        hint = "pick one of: " + ", ".join(known)
        broken = list(broken)
        if broken:
            hint += f"; unavailable plugins (see `ahoy plugins`): {', '.join(broken)}"
        super().__init__(f"model {model_id!r} is not in the catalog or any plugin", hint=hint)
        self.model_id = model_id


@dataclass(frozen=True)
class Found:
    """One entry point as discovered: the plugin, or why it is unavailable."""

    name: str  # the entry point's name
    target: str  # module:attribute
    distribution: str  # name==version of the package that registered it, if known
    plugin: ModelPlugin | None = None
    error: str = ""

    @property
    def status(self) -> str:
        return AVAILABLE if self.plugin is not None else UNAVAILABLE

    @property
    def manifest(self) -> Manifest | None:
        return self.plugin.manifest if self.plugin is not None else None

    def as_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "name": self.name,
            "version": m.version if m else None,
            "summary": m.summary if m else "",
            "status": self.status,
            "error": self.error or None,
            "entry_point": self.target,
            "distribution": self.distribution,
            "tasks": list(m.tasks) if m else [],
            "models": [info.as_dict() for info in m.models] if m else [],
            "hooks": hooks_of(self.plugin) if self.plugin is not None else [],
        }


@dataclass(frozen=True)
class PluginRegistry:
    """The discovered plugins and the model ids they answer for."""

    found: tuple[Found, ...]
    _models: dict[str, tuple[ModelPlugin, ModelInfo]] = field(default_factory=dict)

    def resolve(self, model_id: str) -> tuple[ModelPlugin, ModelInfo]:
        """The plugin training ``model_id`` and its model; raises :class:`UnknownModel`."""
        try:
            return self._models[model_id]
        except KeyError:
            broken = [f.name for f in self.found if f.plugin is None]
            raise UnknownModel(model_id, self._models, broken) from None

    def available(self) -> list[ModelPlugin]:
        return [f.plugin for f in self.found if f.plugin is not None]

    def model_ids(self) -> list[str]:
        return list(self._models)


def discover(entry_points: Iterable[metadata.EntryPoint] | None = None) -> PluginRegistry:
    """Load and check every plugin (by default, the installed ``ahoy.models``
    entry points)."""
    if entry_points is None:
        entry_points = metadata.entry_points(group=GROUP)
    found: list[Found] = []
    models: dict[str, tuple[ModelPlugin, ModelInfo]] = {}
    owners: dict[str, str] = {}
    names: set[str] = set()
    for ep in sorted(entry_points, key=_order):
        dist = _distribution(ep)
        plugin, error = _load(ep)
        if plugin is not None:
            problems = manifest_problems(ep.name, plugin.manifest)
            if not problems and ep.name in names:
                problems.append(f"the plugin name {ep.name!r} is already taken")
            if not problems:
                problems = [
                    f"model id {info.id!r} is already provided by plugin {owners[info.id]!r}"
                    for info in plugin.manifest.models
                    if info.id in owners
                ]
            if problems:
                plugin, error = None, "; ".join(problems)
        if plugin is not None:
            names.add(ep.name)
            for info in plugin.manifest.models:
                models[info.id] = (plugin, info)
                owners[info.id] = ep.name
        found.append(Found(ep.name, ep.value, dist, plugin, error))
    return PluginRegistry(tuple(found), models)


def manifest_problems(entry_name: str, manifest: Manifest) -> list[str]:
    """Everything wrong with ``manifest`` on its own (empty when it is sound)."""
    if not isinstance(manifest, Manifest):
        return [f"its manifest is a {type(manifest).__name__}, not a Manifest"]
    problems = []
    if not NAME.fullmatch(manifest.name or ""):
        problems.append(f"name {manifest.name!r} is not lower case letters, digits, '-' or '_'")
    if manifest.name != entry_name:
        problems.append(f"name {manifest.name!r} differs from its entry point's {entry_name!r}")
    if not isinstance(manifest.version, str) or not manifest.version.strip():
        problems.append("it declares no version")
    if not manifest.models:
        problems.append("it declares no models")
    seen: set[str] = set()
    for info in manifest.models:
        if not isinstance(info, ModelInfo):
            problems.append(f"model {info!r} is not a ModelInfo")
            continue
        if not MODEL_ID.fullmatch(info.id or ""):
            problems.append(f"model id {info.id!r} is not a valid id")
        elif "/" in info.id and info.id.split("/")[0] != manifest.name:
            problems.append(f"model id {info.id!r} must start with {manifest.name + '/'!r}")
        if info.id in seen:
            problems.append(f"model id {info.id!r} is declared twice")
        seen.add(info.id)
        if info.task not in TASKS:
            problems.append(f"model {info.id!r} has task {info.task!r}, not one of {TASKS}")
    return problems + schema_problems(manifest.hyperparameters)


def _load(ep: metadata.EntryPoint) -> tuple[ModelPlugin | None, str]:
    try:
        plugin = ep.load()
    except (Exception, SystemExit) as e:
        return None, f"it failed to load: {type(e).__name__}: {e}"
    missing = [a for a in ("manifest", "resources", "train") if not _has(plugin, a)]
    if missing:
        return None, f"{ep.value} is not a model plugin: it lacks {', '.join(missing)}"
    try:
        plugin.manifest  # noqa: B018 - a manifest built lazily may fail here
    except Exception as e:
        return None, f"its manifest failed: {type(e).__name__}: {e}"
    return plugin, ""


def _has(obj: object, name: str) -> bool:
    """Whether ``obj`` has ``name``, without running a property to find out."""
    return inspect.getattr_static(obj, name, _MISSING) is not _MISSING


_MISSING = object()


def _distribution(ep: metadata.EntryPoint) -> str:
    dist = ep.dist
    return f"{dist.name}=={dist.version}" if dist is not None else ""


def _order(ep: metadata.EntryPoint) -> tuple[bool, str, str]:
    own = ep.dist is not None and ep.dist.name == OWN_DISTRIBUTION
    return (not own, ep.name, ep.value)


_lock = threading.Lock()


@functools.cache
def _cached() -> PluginRegistry:
    return discover()


def plugins() -> PluginRegistry:
    """The installed plugins, discovered once per process."""
    with _lock:  # two first callers must not import plugins twice at once
        return _cached()


def forget() -> None:
    """Drop the cache (tests; a process that installed a plugin)."""
    _cached.cache_clear()
