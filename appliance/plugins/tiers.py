"""The three ways a model gets trained, and whether this box offers each now.

* tier 0, ``catalog``: models of the installed plugins (the Ultralytics catalog is
  the first); available when at least one plugin loaded.
* tier 1, ``script``: the user's own training script in a sandbox (the
  ``train-script`` job kind); available when that kind is installed.
* tier 2, ``container``: a bring-your-own training container. It needs a container
  runtime the box may not have: ``docker`` or ``podman`` on the PATH whose daemon
  answers ``info`` within a few seconds. Reported unavailable, with the reason,
  when none does.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

from appliance.plugins.registry import PluginRegistry

SCRIPT_KIND = "train-script"
NO_RUNTIME = "no container runtime (docker or podman) on this box"
#: How long ``docker info`` may take before the daemon counts as not answering.
INFO_TIMEOUT_S = 3.0
#: How long an answer is reused (a daemon may be started later).
CACHE_S = 60.0

# (program, arguments printing the server's version)
RUNTIMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("docker", ("info", "--format", "{{.ServerVersion}}")),
    ("podman", ("info", "--format", "{{.Version.Version}}")),
)

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def container_runtime(
    which: Callable[[str], str | None] = shutil.which,
    run: Runner = subprocess.run,
    timeout: float = INFO_TIMEOUT_S,
) -> dict[str, Any]:
    """The first container runtime that answers, as ``{available: true, runtime,
    version, path}``, or ``{available: false, reason}`` saying what was tried."""
    tried: list[str] = []
    for program, args in RUNTIMES:
        path = which(program)
        if path is None:
            continue
        command = f"`{program} {args[0]}`"
        try:
            done = run([path, *args], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            tried.append(f"{command} did not answer within {timeout:g} s")
            continue
        except OSError as e:
            tried.append(f"{command} could not run: {e}")
            continue
        version = (done.stdout or "").strip().strip('"')
        if done.returncode == 0 and version:
            return {"available": True, "runtime": program, "version": version, "path": path}
        said = _first_line(done.stderr) or _first_line(done.stdout) or "no answer"
        tried.append(f"{command} failed (exit {done.returncode}): {said}")
    if not tried:
        return {"available": False, "reason": NO_RUNTIME}
    return {"available": False, "reason": f"{NO_RUNTIME} that answers: " + "; ".join(tried)}


def _first_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def cached_container_runtime(now: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """:func:`container_runtime`, asked at most once every :data:`CACHE_S` seconds."""
    with _cache_lock:
        if "at" not in _cache or now() - _cache["at"] > CACHE_S:
            _cache.update(at=now(), answer=container_runtime())
        return dict(_cache["answer"])


def tiers(
    registry: PluginRegistry, kinds: Collection[str], runtime: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Tier 0–2 as clients show them: ``available`` and, when not, the ``reason``."""
    loaded = [f for f in registry.found if f.plugin is not None]
    catalog: dict[str, Any] = {
        "tier": 0,
        "available": bool(loaded),
        "kind": "train",
        "plugins": [f.name for f in loaded],
    }
    if not loaded:
        catalog["reason"] = "no model plugin loaded (see `ahoy plugins` for why)"
    script: dict[str, Any] = {"tier": 1, "available": SCRIPT_KIND in kinds, "kind": SCRIPT_KIND}
    if not script["available"]:
        script["reason"] = "script mode is not installed on this appliance"
    else:  # the kind is there; the box must also be able to make its sandbox
        from appliance.sandbox import bwrap

        script.update(bwrap.status())
    container: dict[str, Any] = {"tier": 2, "kind": None, **runtime}
    if runtime.get("available"):
        container["note"] = "the runtime answers; no job kind runs training containers yet"
    return {"catalog": catalog, "script": script, "container": container}
