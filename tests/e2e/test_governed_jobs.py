"""Governed jobs end to end: a real `ahoy serve`, its huey worker child, the live
probe, and the `box-benchmark` job (a real child process group)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from appliance.sdk import ApiError
from appliance.services.governed import live_members
from tests.e2e.conftest import Appliance

pytestmark = pytest.mark.e2e


def wait_for(appliance: Appliance, job_id: str, states: set[str], timeout: float = 60) -> Any:
    assert appliance.client is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = appliance.client.get_job(None, job_id)
        if job["state"] in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} stayed {job['state']}: {job}")


def group_alive(pgid: int) -> bool:
    """Any process of the group still running (a zombie awaiting its reaper runs nothing)."""
    return bool(live_members(pgid))


def test_capacity_reads_the_box(appliance: Appliance) -> None:
    assert appliance.client is not None
    cap = appliance.client.capacity()
    assert cap["reading"]["cores"] == len(os.sched_getaffinity(0))
    assert cap["worker"] == "running"
    if not cap["reading"]["gpus"]:
        assert cap["reading"]["gpu_note"]
    text = appliance.ahoy("capacity").stdout
    assert "cores" in text and "jobs:" in text


def test_second_job_waits_with_its_position_then_both_run(appliance: Appliance) -> None:
    c = appliance.client
    assert c is not None
    cores = c.capacity()["reading"]["cores"]
    # Long enough that the small one is still queued when the CLI (seconds to start
    # on a loaded box) shows it.
    big = c.submit_job("box-benchmark", {"seconds": 8, "cores": cores})
    wait_for(appliance, big["id"], {"running"})
    small = c.submit_job("box-benchmark", {"seconds": 1, "cores": 1})
    time.sleep(1.5)  # a few scheduler passes
    waiting = c.get_job(None, small["id"])
    assert waiting["state"] == "queued"
    assert waiting["admission"]["position"] == 1
    assert "core(s)" in waiting["admission"]["reason"]
    listed = appliance.ahoy("job", "show", small["id"]).stdout
    assert "queued" in listed
    first = wait_for(appliance, big["id"], {"succeeded", "failed"})
    second = wait_for(appliance, small["id"], {"succeeded", "failed"})
    assert first["state"] == second["state"] == "succeeded", (first, second)
    assert first["result"]["cores"] == cores and first["result"]["sha256_mib_per_s"] > 0
    assert second["started_at"] >= first["finished_at"] - 0.5  # it waited for the cores
    metrics = list(c.job_log(big["id"], kind="metrics"))
    assert metrics and metrics[0]["data"] == first["result"]


def test_a_job_that_can_never_fit_is_refused_with_what_it_needs(appliance: Appliance) -> None:
    c = appliance.client
    assert c is not None
    before = len(list(c.list_jobs(None)))
    with pytest.raises(ApiError) as err:
        c.submit_job("box-benchmark", {"seconds": 1, "cores": 512})
    assert err.value.status == 422 and err.value.code == "job-rejected"
    assert "it needs 512 core(s)" in err.value.detail and "this box has" in err.value.detail
    assert len(list(c.list_jobs(None))) == before  # nothing was queued
    cli = appliance.ahoy("job", "submit", "box-benchmark", "-p", "cores=512", check=False)
    assert cli.returncode == 9 and "cannot run on this box" in (cli.stdout + cli.stderr)
    bad = appliance.ahoy("job", "submit", "box-benchmark", "-p", "seconds=-1", check=False)
    assert bad.returncode == 2 and "seconds must be between" in (bad.stdout + bad.stderr)


def test_cancel_kills_the_whole_process_group(appliance: Appliance) -> None:
    c = appliance.client
    assert c is not None
    job = c.submit_job("box-benchmark", {"seconds": 120, "cores": 1})
    running = wait_for(appliance, job["id"], {"running"})
    deadline = time.monotonic() + 20
    while not running["pgid"] and time.monotonic() < deadline:
        time.sleep(0.1)
        running = c.get_job(None, job["id"])
    pgid = running["pgid"]
    assert pgid and group_alive(pgid)
    started = time.monotonic()
    appliance.ahoy("job", "cancel", job["id"])
    final = wait_for(appliance, job["id"], {"cancelled", "failed", "succeeded"}, timeout=20)
    assert final["state"] == "cancelled"
    assert time.monotonic() - started < 10
    assert not group_alive(pgid)
    queued = c.submit_job("box-benchmark", {"seconds": 1, "cores": 1})
    c.cancel_job(queued["id"])  # cancelled at once, whether it had started or not
    assert wait_for(appliance, queued["id"], {"cancelled", "succeeded"})["state"] in (
        "cancelled",
        "succeeded",
    )


def test_a_dead_worker_fails_its_jobs_and_comes_back(appliance: Appliance) -> None:
    c = appliance.client
    assert c is not None
    job = c.submit_job("box-benchmark", {"seconds": 120, "cores": 1})
    running = wait_for(appliance, job["id"], {"running"})
    while not running["pgid"]:
        time.sleep(0.1)
        running = c.get_job(None, job["id"])
    worker = subprocess.run(
        ["pgrep", "-f", "appliance.runtime.worker"], capture_output=True, text=True
    ).stdout.split()
    mine = [int(p) for p in worker if _env_of(int(p)).get("AHOY_PORT") == str(appliance.port)]
    assert len(mine) == 1
    os.kill(mine[0], signal.SIGKILL)
    failed = wait_for(appliance, job["id"], {"failed"}, timeout=20)
    assert "worker process died" in failed["error"]["detail"]
    assert not group_alive(running["pgid"])
    again = c.submit_job("box-benchmark", {"seconds": 1, "cores": 1})
    assert wait_for(appliance, again["id"], {"succeeded", "failed"}, 60)["state"] == "succeeded"
    assert c.capacity()["worker"] == "running"


def _env_of(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode("utf-8", "replace") for k, v in pairs}


def test_a_restart_fails_what_ran_and_keeps_what_waited(appliance: Appliance) -> None:
    c = appliance.client
    assert c is not None
    cores = c.capacity()["reading"]["cores"]
    hog = c.submit_job("box-benchmark", {"seconds": 120, "cores": cores})
    running = wait_for(appliance, hog["id"], {"running"})
    waiting = c.submit_job("box-benchmark", {"seconds": 1, "cores": 1})
    time.sleep(1.5)
    assert c.get_job(None, waiting["id"])["state"] == "queued"
    while not running["pgid"]:
        time.sleep(0.1)
        running = c.get_job(None, hog["id"])
    assert appliance.stop() == 0
    assert not group_alive(running["pgid"])  # serve took the job's processes down with it
    appliance.start()
    stopped = c.get_job(None, hog["id"])
    assert stopped["state"] == "failed" and "stopped while it ran" in stopped["error"]["detail"]
    assert wait_for(appliance, waiting["id"], {"succeeded", "failed"})["state"] == "succeeded"
