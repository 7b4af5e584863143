"""The tier-0 model catalog: ids, YAML names, and the resource estimate it hands the governor."""

from __future__ import annotations

import pytest

from appliance.domain.governor import GIB, MIB, HostReading, decide, never_fits
from appliance.domain.training import catalog

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("model_id", "task", "yaml", "params_class"),
    [
        ("yolo11n-detect", "detect", "yolo11n.yaml", "tiny"),
        ("yolo11s-segment", "segment", "yolo11s-seg.yaml", "small"),
        ("yolo11m-pose", "pose", "yolo11m-pose.yaml", "medium"),
        ("yolo11l-classify", "classify", "yolo11l-cls.yaml", "small"),
        ("yolo11x-detect", "detect", "yolo11x.yaml", "large"),
        ("rtdetr-l", "detect", "rtdetr-l.yaml", "large"),
        ("rtdetr-x", "detect", "rtdetr-x.yaml", "xlarge"),
    ],
)
def test_entries(model_id, task, yaml, params_class):
    entry = catalog.get(model_id)
    assert (entry.task, entry.yaml, entry.params_class) == (task, yaml, params_class)


def test_the_catalog_is_complete_and_unique():
    ids = [e.id for e in catalog.CATALOG]
    assert len(ids) == len(set(ids)) == 4 * 5 + 2
    assert {e.task for e in catalog.entries("segment")} == {"segment"}
    assert [e.size for e in catalog.entries("pose")] == list("nsmlx")
    assert {e.family for e in catalog.entries("detect")} == {"yolo11", "rtdetr"}


def test_unknown_model_names_the_choices():
    with pytest.raises(catalog.UnknownModel) as err:
        catalog.get("yolo99z-detect")
    assert err.value.model_id == "yolo99z-detect"
    assert "yolo11n-detect" in err.value.hint and "rtdetr-x" in err.value.hint


def test_cpu_estimate_covers_the_measured_peak():
    """yolo11n at 128 px, batch 8 peaked at ~0.96 GB RSS here (PLATFORM_NOTES: ~1.25 GB
    with 64 images); at 640 px, batch 8, at 3.2 GB."""
    entry = catalog.get("yolo11n-detect")
    small = entry.resource_request({"imgsz": 128, "batch": 8, "device": "cpu"}, gpu=False)
    assert 1.0 * GIB < small.ram_bytes < 1.5 * GIB
    big = entry.resource_request({"imgsz": 640, "batch": 8}, gpu=False)
    assert 3.2e9 < big.ram_bytes < 4.5 * GIB
    assert (small.gpus, small.vram_mib, small.cpu_cores) == (0, 0, catalog.CPU_TRAIN_CORES)


def test_estimate_scales_with_image_area_and_batch():
    entry = catalog.get("yolo11s-detect")
    base = entry.resource_request({"imgsz": 640, "batch": 1}, gpu=True)
    four = entry.resource_request({"imgsz": 1280, "batch": 1}, gpu=True)
    eight = entry.resource_request({"imgsz": 640, "batch": 8}, gpu=True)
    per_image = entry.vram_per_image_mib
    assert four.vram_mib - base.vram_mib == pytest.approx(3 * per_image, abs=1)
    assert eight.vram_mib - base.vram_mib == pytest.approx(7 * per_image, abs=1)


def test_gpu_request_counts_loader_workers():
    entry = catalog.get("yolo11m-segment")
    two = entry.resource_request({"workers": 2}, gpu=True)
    six = entry.resource_request({"workers": 6}, gpu=True)
    assert (two.gpus, two.cpu_cores, six.cpu_cores) == (1, 3, 7)
    assert six.ram_bytes - two.ram_bytes == 4 * catalog.RAM_PER_WORKER


def test_bigger_models_and_heavier_tasks_ask_for_more():
    hp = {"imgsz": 640, "batch": 16}
    vram = [
        catalog.get(f"yolo11{s}-detect").resource_request(hp, gpu=True).vram_mib for s in "nsmlx"
    ]
    assert vram == sorted(vram)
    detect = catalog.get("yolo11n-detect").resource_request(hp, gpu=True).vram_mib
    segment = catalog.get("yolo11n-segment").resource_request(hp, gpu=True).vram_mib
    assert segment > detect


@pytest.mark.parametrize(
    ("device", "host_has_gpu", "expected"),
    [("cpu", True, False), ("cuda", False, True), ("auto", True, True), ("auto", False, False)],
)
def test_wants_gpu(device, host_has_gpu, expected):
    assert catalog.wants_gpu({"device": device}, host_has_gpu=host_has_gpu) is expected


def test_the_governor_rejects_a_cpu_run_too_big_for_the_box():
    box = HostReading(cores=2, ram_total=24 * GIB, ram_available=20 * GIB, disk_free=50 * GIB)
    fits = catalog.get("yolo11n-detect").resource_request({"imgsz": 128, "batch": 8}, gpu=False)
    assert decide(fits, box).verdict == "run"
    huge = catalog.get("yolo11x-detect").resource_request({"imgsz": 1280, "batch": 32}, gpu=False)
    assert "RAM for jobs" in never_fits(huge, box)
    assert huge.ram_bytes > 100 * GIB and huge.disk_bytes > 256 * MIB


@pytest.mark.parametrize(
    ("size", "measured_mib"),
    [("n", 2500), ("s", 4306), ("m", 8656), ("l", 11274), ("x", 16528)],
)
def test_gpu_estimate_covers_the_measured_h200_peak(size, measured_mib):
    """Peak reserved CUDA memory, one epoch at 640 px, batch 16 (bench_training --vram)."""
    request = catalog.get(f"yolo11{size}-detect").resource_request(
        {"imgsz": 640, "batch": 16}, gpu=True
    )
    assert measured_mib < request.vram_mib < measured_mib * 1.25
