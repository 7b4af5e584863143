"""Every HardwareProbe adapter gives a sane reading; no GPU is a normal state."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from appliance.adapters.probe.fixed import FixedProbe
from appliance.adapters.probe.host import HostProbe
from appliance.domain.governor import GIB, HostReading
from appliance.ports.probe import HardwareProbe

pytestmark = pytest.mark.integration


@pytest.fixture(params=["host", "fixed"])
def probe(request: pytest.FixtureRequest, tmp_path: Path) -> HardwareProbe:
    if request.param == "host":
        return HostProbe(tmp_path / "not-yet" / "data")
    return FixedProbe(HostReading(2, 24 * GIB, 20 * GIB, 50 * GIB, gpu_note="fixed"))


def test_reading_is_sane(probe: HardwareProbe) -> None:
    r = probe.read()
    assert r.cores >= 1
    assert 0 < r.ram_available <= r.ram_total
    assert r.disk_free > 0
    for g in r.gpus:
        assert 0 <= g.memory_free_mib <= g.memory_total_mib
    if not r.gpus:
        assert r.gpu_note, "a reading without GPUs says why"


def test_live_probe_matches_psutil(tmp_path: Path) -> None:
    r = HostProbe(tmp_path).read()
    assert r.ram_total == psutil.virtual_memory().total
    assert r.cores <= (psutil.cpu_count() or r.cores)


def test_no_nvidia_driver_is_a_normal_reading(tmp_path: Path) -> None:
    probe = HostProbe(tmp_path)
    first, second = probe.read(), probe.read()
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
    except pynvml.NVMLError:
        assert first.gpus == () and "no NVIDIA driver" in first.gpu_note
        assert second.gpu_note == first.gpu_note
    else:
        pytest.skip("this box has an NVIDIA driver; the no-GPU path is covered on CPU boxes")
