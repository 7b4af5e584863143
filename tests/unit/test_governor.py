"""The admission policy against fixed probe readings: run, queue (with position) or reject."""

from __future__ import annotations

import pytest

from appliance.domain.governor import (
    GIB,
    QUEUE,
    REJECT,
    RUN,
    GpuReading,
    HostReading,
    MigSlice,
    ResourceRequest,
    Running,
    decide,
)

pytestmark = pytest.mark.unit

CPU_BOX = HostReading(
    cores=2, ram_total=24 * GIB, ram_available=20 * GIB, disk_free=50 * GIB, gpu_note="no NVML"
)
RTX = GpuReading(0, "RTX 4090", 24_564, 24_000)
ONE_GPU = HostReading(16, 64 * GIB, 60 * GIB, 500 * GIB, gpus=(RTX,))
TWO_GPUS = HostReading(
    32, 128 * GIB, 120 * GIB, 500 * GIB, gpus=(RTX, GpuReading(1, "RTX 4090", 24_564, 24_000))
)
H100_MIG = HostReading(
    32,
    256 * GIB,
    250 * GIB,
    1000 * GIB,
    gpus=(
        GpuReading(
            0, "H100", 81_559, 81_000, mig=tuple(MigSlice(f"0:{i}", 9_856) for i in range(7))
        ),
    ),
)

cpu1 = ResourceRequest(cpu_cores=1, ram_bytes=4 * GIB)
gpu8 = ResourceRequest(cpu_cores=4, ram_bytes=8 * GIB, gpus=1, vram_mib=8_000)


def busy(*devices: str, request: ResourceRequest = gpu8) -> list[Running]:
    return [Running(f"j{i}", request, (d,)) for i, d in enumerate(devices)]


CASES = [
    # name, request, host, running, waiting_ahead, verdict, position, fragment of reason, devices
    ("cpu job fits", cpu1, CPU_BOX, [], 0, RUN, 0, "fits now", ()),
    ("gpu job on a cpu box", gpu8, CPU_BOX, [], 0, REJECT, 0, "no GPU (no NVML)", ()),
    (
        "more ram than installed",
        ResourceRequest(1, 64 * GIB),
        CPU_BOX,
        [],
        0,
        REJECT,
        0,
        "22.0 GiB RAM for jobs",
        (),
    ),
    (
        "more cores than the box",
        ResourceRequest(8, GIB),
        CPU_BOX,
        [],
        0,
        REJECT,
        0,
        "2 core(s)",
        (),
    ),
    (
        "more disk than free",
        ResourceRequest(1, GIB, disk_bytes=80 * GIB),
        CPU_BOX,
        [],
        0,
        REJECT,
        0,
        "50.0 GiB free",
        (),
    ),
    (
        "cores taken by running jobs",
        cpu1,
        CPU_BOX,
        [Running("a", cpu1), Running("b", cpu1)],
        0,
        QUEUE,
        1,
        "1 core(s) (0 free)",
        (),
    ),
    ("fits but others wait ahead", cpu1, CPU_BOX, [], 2, QUEUE, 3, "2 job(s) queued ahead", ()),
    (
        "other programs use the ram",
        ResourceRequest(1, 8 * GIB),
        HostReading(2, 24 * GIB, 3 * GIB, 50 * GIB),
        [],
        0,
        QUEUE,
        1,
        "8.0 GiB RAM (3.0 GiB free)",
        (),
    ),
    ("one gpu, free", gpu8, ONE_GPU, [], 0, RUN, 0, "fits now", ("0",)),
    ("one gpu, taken", gpu8, ONE_GPU, busy("0"), 0, QUEUE, 1, "1 free GPU(s)", ()),
    ("two gpus, one taken", gpu8, TWO_GPUS, busy("0"), 0, RUN, 0, "fits now", ("1",)),
    ("two gpus, both taken", gpu8, TWO_GPUS, busy("0", "1"), 0, QUEUE, 1, "free GPU", ()),
    (
        "vram beyond the largest gpu",
        ResourceRequest(4, 8 * GIB, gpus=1, vram_mib=40_000),
        ONE_GPU,
        [],
        0,
        REJECT,
        0,
        "largest GPU here has 24564 MiB",
        (),
    ),
    (
        "two gpus wanted on a one-gpu box",
        ResourceRequest(4, 8 * GIB, gpus=2, vram_mib=8_000),
        ONE_GPU,
        [],
        0,
        REJECT,
        0,
        "1 GPU(s) large enough",
        (),
    ),
    (
        "gpu memory used by another program",
        gpu8,
        HostReading(16, 64 * GIB, 60 * GIB, 500 * GIB, gpus=(GpuReading(0, "x", 24_564, 2_000),)),
        [],
        0,
        QUEUE,
        1,
        "free GPU",
        (),
    ),
    ("mig slice free", gpu8, H100_MIG, busy("0:0", "0:1"), 0, RUN, 0, "fits now", ("0:2",)),
    (
        "all mig slices taken",
        gpu8,
        H100_MIG,
        busy(*(f"0:{i}" for i in range(7))),
        0,
        QUEUE,
        1,
        "free GPU",
        (),
    ),
    (
        "too big for any mig slice",
        ResourceRequest(4, 8 * GIB, gpus=1, vram_mib=20_000),
        H100_MIG,
        [],
        0,
        REJECT,
        0,
        "largest GPU here has 9856 MiB",
        (),
    ),
]


@pytest.mark.parametrize(
    ("request_", "host", "running", "ahead", "verdict", "position", "reason", "devices"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_admission(request_, host, running, ahead, verdict, position, reason, devices) -> None:
    d = decide(request_, host, running, ahead)
    assert (d.verdict, d.position, d.devices) == (verdict, position, devices)
    assert reason in d.reason


def test_rejection_says_what_is_needed_and_what_the_box_has() -> None:
    d = decide(gpu8, CPU_BOX)
    assert d.reason.startswith("it needs 4 core(s), 8.0 GiB RAM, 1 GPU(s) with 8000 MiB each")
    assert d.as_dict()["verdict"] == "reject"


def test_cpu_jobs_fill_the_box_then_queue_in_order() -> None:
    running: list[Running] = []
    verdicts = []
    for i in range(4):
        d = decide(cpu1, CPU_BOX, running, 0)
        verdicts.append(d.verdict)
        if d.verdict == RUN:
            running.append(Running(str(i), cpu1))
    assert verdicts == [RUN, RUN, QUEUE, QUEUE]


def test_a_mig_slice_is_granted_by_id_and_named_to_cuda_by_uuid() -> None:
    slices = tuple(MigSlice(f"0:{i}", 9_856, f"MIG-aaaa-{i}") for i in range(3))
    host = HostReading(
        32,
        256 * GIB,
        250 * GIB,
        1000 * GIB,
        gpus=(GpuReading(0, "H100", 81_559, 81_000, mig=slices),),
    )
    d = decide(gpu8, host, busy("0:0"))
    assert d.devices == ("0:1",) and d.as_dict()["cuda_visible_devices"] == "MIG-aaaa-1"
    whole = decide(gpu8, ONE_GPU)
    assert whole.devices == ("0",) and whole.as_dict()["cuda_visible_devices"] == "0"
    unknown = decide(gpu8, H100_MIG)  # no uuid read: the id is all there is
    assert unknown.as_dict()["cuda_visible_devices"] == "0:0"
