"""Test plugins, and a way to install one as a real entry point without touching
the project's own: a ``.dist-info`` written into a temporary dir that a child
process gets on its PYTHONPATH (beside this folder, which holds the code)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Appliance, running_appliance
from tests.integration.yolo_dataset import make_detect_dataset

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


@contextlib.contextmanager
def plugged_appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """A running appliance that sees the test plugins installed."""
    site = install_dist_info(tmp_path_factory.mktemp("site"))
    env = {"PYTHONPATH": pythonpath(site, os.environ.get("PYTHONPATH"))}
    with running_appliance(tmp_path_factory, env) as app:
        yield app


def seed_boxes(app: Appliance, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small committed detect dataset, ``boxes``, half train and half val."""
    root = tmp_path_factory.mktemp("boxes")
    make_detect_dataset(root, train=8, val=4, size=64)
    app.ahoy("dataset", "create", "boxes", "--split", "train=0.5,val=0.5")
    app.ahoy("dataset", "import-yolo", str(root), "-d", "boxes")
    app.ahoy("dataset", "commit", "boxes", "-m", "boxes to count")
    return "boxes"
