"""The job worker never outlives the `ahoy serve` that started it, even one that
died while the worker was still starting up (a stale worker would share the next
serve's queue)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from appliance.runtime.worker import PARENT_PID

pytestmark = pytest.mark.integration


def test_a_worker_whose_serve_is_already_gone_exits_at_once(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a serve that died before its worker looked
    worker = subprocess.run(
        [sys.executable, "-m", "appliance.runtime.worker"],
        env={**os.environ, PARENT_PID: str(gone.pid), "AHOY_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 3, worker.stderr[-2000:]
    assert f"ahoy serve (pid {gone.pid}) is gone" in worker.stderr
