"""Test plugins, and a way to install one as a real entry point without touching
the project's own: a ``.dist-info`` written into a temporary dir that a child
process gets on its PYTHONPATH (beside this folder, which holds the code)."""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIST = "ahoy-test-plugin"
VERSION = "0.3.0"


def install_dist_info(site: Path) -> Path:
    """Write ``ahoy_test_plugin-0.3.0.dist-info`` (METADATA, entry_points.txt) under
    ``site``; returns ``site``. importlib.metadata finds it on sys.path. It
    registers two plugins: ``testplugin`` and ``broken`` (whose import fails)."""
    info = site / f"{DIST.replace('-', '_')}-{VERSION}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {VERSION}\n"
        "Summary: a tiny AHOY model plugin for tests\n"
    )
    (info / "entry_points.txt").write_text(
        "[ahoy.models]\n"
        "testplugin = ahoy_test_plugin:PLUGIN\n"
        "broken = ahoy_test_plugin.needs_missing_lib:PLUGIN\n"
    )
    (info / "RECORD").write_text("")
    return site


def pythonpath(site: Path, existing: str | None = None) -> str:
    """PYTHONPATH for a child that should see the test plugin installed."""
    parts = [str(site), str(HERE), *(existing.split(os.pathsep) if existing else [])]
    return os.pathsep.join(p for p in parts if p)
