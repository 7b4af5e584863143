"""The edge agent installs on its own: a fresh venv with only the ``ahoy-agent``
distribution (and the small dependencies it names) runs the runtime and validates
the newcomer's pipeline file, and cannot import torch or Ultralytics."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.unit.test_pipeline_validate import EXAMPLE

pytestmark = pytest.mark.integration

AGENT = Path(__file__).resolve().parents[2] / "agent"

CHECK = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import ahoy_agent
    from ahoy_agent.runtime.decode import decode
    from ahoy_agent.runtime.letterbox import letterbox
    from ahoy_agent.runtime.pipeline_validate import summary, validate_file

    boxed, fitted = letterbox(np.zeros((48, 64, 3), np.uint8), 32)
    checked = validate_file(sys.argv[1])
    missing = []
    for name in ("torch", "ultralytics"):
        try:
            __import__(name)
        except ModuleNotFoundError:
            missing.append(name)
    print(json.dumps({
        "file": ahoy_agent.__file__,
        "boxed": list(boxed.shape),
        "errors": [e.message for e in checked.errors],
        "summary": summary(checked.pipeline) if checked.ok else None,
        "missing": missing,
    }))
    """
)


def test_the_agent_alone_runs_without_torch_or_ultralytics(tmp_path: Path):
    # a copy: building in the source tree would leave build/ and egg-info there
    source = shutil.copytree(AGENT, tmp_path / "agent", ignore=shutil.ignore_patterns("*.egg-info"))
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", str(source)], check=True, env=env, timeout=600
    )
    (tmp_path / "pipeline.yaml").write_text(EXAMPLE)

    result = subprocess.run(
        [python, "-c", CHECK, str(tmp_path / "pipeline.yaml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["file"].startswith(str(venv)), "the venv's own copy, not the checkout's"
    assert found["boxed"] == [32, 32, 3]
    assert found["errors"] == []
    assert found["summary"] == "model shapes@production, 1 source, 1 zone, 2 sinks"
    assert found["missing"] == ["torch", "ultralytics"]

    installed = subprocess.run(
        [python, "-m", "pip", "list", "--format=freeze"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.lower()
    assert "ahoy-agent==0.1.0" in installed
    assert "torch" not in installed and "ultralytics" not in installed
