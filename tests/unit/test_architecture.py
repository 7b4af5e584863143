"""Layers import only leftwards: domain ← services ← edges; adapters implement ports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2] / "appliance"

# package → the appliance packages it must never import
FORBIDDEN = {
    "domain": {
        "adapters",
        "services",
        "cli",
        "web",
        "runtime",
        "ingest",
        "ports",
        "bootstrap",
        "settings",
    },
    "ports": {"adapters", "services", "cli", "web", "runtime", "bootstrap"},
    "adapters": {"services", "cli", "web", "runtime", "bootstrap"},
    "services": {"adapters", "cli", "web", "runtime", "bootstrap"},
    "ingest": {"adapters", "services", "cli", "web", "runtime", "bootstrap"},
    "web": {"adapters", "cli", "runtime", "bootstrap"},
    # Model plugins (and the built-in catalog plugin) know the domain and the
    # training engine, never the app around them.
    "plugins": {"adapters", "services", "cli", "web", "runtime", "bootstrap", "jobs"},
    # The SDK runs on client machines: it knows the wire format, not the server.
    "sdk": {"adapters", "services", "cli", "web", "runtime", "bootstrap"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "appliance":  # from appliance import jobs
                names.update(f"appliance.{a.name}" for a in node.names)
    return names


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_does_not_import_rightwards(package):
    bad = []
    for path in _files(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "appliance" and len(parts) > 1 and parts[1] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_sdk_imports_nothing_of_the_server():
    """The SDK runs on client machines: it talks HTTP, reusing only pure pieces
    (domain, ingest, errors, the Progress protocol)."""
    server_side = {"adapters", "services", "cli", "web", "runtime", "bootstrap", "ports"}
    bad = []
    for path in _files("sdk"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "appliance" or len(parts) < 2:
                continue
            if parts[1] in server_side:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


#: The engines (child-process code) in their order: each may import the ones before
#: it, the child-process protocol, the domain and the errors, nothing else of the
#: appliance (see appliance/child_events.py).
ENGINES = ("training", "inference", "export")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_engine_imports_only_the_protocol_domain_errors_and_engines_before_it(engine):
    allowed = {"child_events", "domain", "errors", *ENGINES[: ENGINES.index(engine) + 1]}
    bad = []
    for path in _files(engine):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "appliance" and len(parts) > 1 and parts[1] not in allowed:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_child_process_protocol_imports_only_the_standard_library():
    """The RKNN worker loads it by path in an environment without the appliance."""
    names = _imports(ROOT / "child_events.py")
    assert all(n.split(".")[0] in sys.stdlib_module_names | {"__future__"} for n in names), names


#: numerical libraries the domain may compute with (no I/O in them), and where
NUMERIC = {"numpy": ("evaluation",)}


def test_domain_imports_only_the_standard_library():
    allowed_local = ("appliance.domain", "appliance.errors")
    bad = []
    for path in _files("domain"):
        for name in _imports(path):
            top = name.split(".")[0]
            if name.startswith(allowed_local) or top == "__future__":
                continue
            if path.parent.name in NUMERIC.get(top, ()):
                continue
            if top not in sys.stdlib_module_names:
                bad.append(f"{path.name} imports {name}")
    assert not bad, "\n".join(bad)


def test_nothing_happens_at_import_time():
    """Importing every module opens no file, socket or process (checked in a child)."""
    import subprocess

    code = (
        "import pkgutil, importlib, socket, subprocess, builtins, appliance\n"
        "def boom(*a, **k): raise AssertionError('side effect at import time')\n"
        "socket.socket.connect = boom; subprocess.Popen.__init__ = boom\n"
        "for m in pkgutil.walk_packages(appliance.__path__, 'appliance.'):\n"
        "    if m.name.endswith('__main__'): continue\n"
        "    importlib.import_module(m.name)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
