"""A plugin installed as a real distribution (a .dist-info on the path, as pip
leaves it) is discovered through ``importlib.metadata`` in a fresh process; a
plugin of it that cannot import is listed with why, and the rest still load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugins import install_dist_info, pythonpath

pytestmark = pytest.mark.integration

LIST = (
    "import json\n"
    "from appliance.plugins.registry import discover\n"
    "print(json.dumps([f.as_dict() for f in discover().found]))\n"
)


def _discovered(cwd: Path, env: dict[str, str]) -> dict[str, dict]:
    done = subprocess.run(
        [sys.executable, "-c", LIST], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return {p["name"]: p for p in json.loads(done.stdout)}


def test_a_plugin_installed_as_a_distribution_is_discovered(tmp_path: Path) -> None:
    site = install_dist_info(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": pythonpath(site, os.environ.get("PYTHONPATH"))}
    found = _discovered(tmp_path, env)
    assert list(found) == ["ultralytics", "broken", "testplugin"]  # own first, then by name
    tiny = found["testplugin"]
    assert tiny["status"] == "available" and tiny["error"] is None
    assert tiny["distribution"] == "ahoy-test-plugin==0.3.0"
    assert [m["id"] for m in tiny["models"]] == ["testplugin/tiny"]
    broken = found["broken"]
    assert broken["status"] == "unavailable" and broken["version"] is None
    assert "ModuleNotFoundError: No module named 'imaginary_ml_lib'" in broken["error"]
    assert found["ultralytics"]["status"] == "available"


def test_the_test_plugins_stay_out_of_the_project_s_own_entry_points(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = _discovered(tmp_path, clean)
    assert found["ultralytics"]["status"] == "available"
    assert not {"testplugin", "broken"} & set(found)
