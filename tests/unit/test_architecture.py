"""The layer rules: import-linter's contracts (pyproject.toml, docs/architecture.md), plus
what they cannot say: which third-party libraries the domain and the child-process
protocol may use, and that importing a module does nothing."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2] / "appliance"
PYPROJECT = ROOT.parent / "pyproject.toml"


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


def test_the_import_contracts_hold():
    """The layer rules are import-linter contracts in pyproject.toml: every
    appliance package is in the layers (exhaustive), and none lists an exception."""
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    assert not [c["id"] for c in contracts if "ignore_imports" in c]
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=PYPROJECT.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in done.stdout


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

    code = (
        "import pkgutil, importlib, socket, subprocess, builtins, appliance\n"
        "def boom(*a, **k): raise AssertionError('side effect at import time')\n"
        "socket.socket.connect = boom; subprocess.Popen.__init__ = boom\n"
        "for m in pkgutil.walk_packages(appliance.__path__, 'appliance.'):\n"
        "    if m.name.endswith('__main__'): continue\n"
        "    importlib.import_module(m.name)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
