"""The tier-0 model catalog: Ultralytics YOLO11 (detect, segment, pose, classify;
sizes n/s/m/l/x) and RT-DETR (l, x; detect), built from their architecture YAMLs
(as shipped in ``ultralytics/cfg/models``), never downloaded.

Each entry estimates the resources a training run needs, for the governor:

    memory = base + per_image_640 × (imgsz / 640)² × batch

**These are estimates**, meant to be conservative, not measurements of every entry:

* CPU RAM (ultralytics 8.4.190, torch 2.14.1, 2-core x86, ``workers=0``, peak RSS):
  yolo11n measured 964 MB at 128 px/batch 8, 1,192 MB at 256/8, 1,425 MB at 256/16,
  2,404 MB at 512/8; yolo11s/m/l/x at 256/8: 1,706 / 2,495 / 2,920 / 4,346 MB. The
  torch + ultralytics import alone is ~550 MB. ``base`` is 900 MB plus 20 bytes per
  parameter (weights, gradients, optimizer state, EMA in fp32); ``per_image_640`` for
  yolo11n comes from the steepest measured slope (512 px) and for the other sizes
  from their ratio to yolo11n at 256 px. Ultralytics trains on the CPU with no
  data loader workers whatever ``workers`` says; the run asks for
  ``CPU_TRAIN_CORES`` and should get as many torch threads (``TrainSpec.threads``).
* On a GPU, every data loader worker adds ``RAM_PER_WORKER`` and a core.
* GPU VRAM (detect column): measured on an H200 with ``benchmarks/bench_training.py
  --device cuda --vram`` (torch 2.11, AMP on, ``torch.cuda.max_memory_reserved`` over
  one epoch at 640 px, batch 16, and its validation): yolo11n/s/m/l/x peaked at
  2,500 / 4,306 / 8,656 / 11,274 / 16,528 MiB. ``per_image_640`` is
  (peak − ``VRAM_BASE`` − 20 bytes a parameter) / 16 with a 15 % margin;
  ``VRAM_BASE`` also stands for the CUDA context, which the peak does not count.
* Other tasks scale the detect figures: segment × 1.5 (mask prototypes), pose × 1.1,
  classify × 0.3 (no neck or head at full resolution). RT-DETR per-image figures are
  1.5 × yolo11l/x (attention in the encoder). These factors are educated guesses,
  not measurements: recalibrate when a box reports otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from appliance.domain.governor import MIB, ResourceRequest
from appliance.errors import InvalidInput

TASKS = ("detect", "segment", "pose", "classify")
SIZES = ("n", "s", "m", "l", "x")

#: RAM of one data loader worker process (decoding and augmenting images).
RAM_PER_WORKER = 400 * MIB
#: Cores a CPU training asks for (torch computes on several threads).
CPU_TRAIN_CORES = 2
#: RAM (CPU) and VRAM (GPU) of the training process before the model and batches.
RAM_BASE = 900 * MIB
VRAM_BASE = 600 * MIB
BYTES_PER_PARAM = 20

# Detect, per image at 640 px, MiB: (CPU RAM, GPU VRAM). See the module docstring.
_DETECT_PER_IMAGE = {
    "n": (320, 135),
    "s": (800, 255),
    "m": (1600, 550),
    "l": (2000, 730),
    "x": (3100, 1060),
}
_TASK_FACTOR = {"detect": 1.0, "segment": 1.5, "pose": 1.1, "classify": 0.3}
_RTDETR_FACTOR = 1.5

# Parameters as built from the YAML here (nc=80; classify nc=1000), ultralytics 8.4.190.
_PARAMS = {
    "detect": (2_624_080, 9_458_752, 20_114_688, 25_372_160, 56_966_176),
    "segment": (2_876_848, 10_113_248, 22_420_896, 27_678_368, 62_142_656),
    "pose": (2_908_507, 9_948_811, 20_973_273, 26_230_745, 58_889_881),
    "classify": (2_812_104, 6_724_008, 11_634_216, 14_115_624, 29_637_064),
}
_RTDETR_PARAMS = {"l": 32_970_476, "x": 67_467_852}
_YAML_SUFFIX = {"detect": "", "segment": "-seg", "pose": "-pose", "classify": "-cls"}


class UnknownModel(InvalidInput):
    """A model id that is not in the catalog."""

    code = "unknown-model"

    def __init__(self, model_id: str) -> None:
        super().__init__(
            f"model {model_id!r} is not in the catalog",
            hint="pick one of: " + ", ".join(e.id for e in CATALOG),
        )
        self.model_id = model_id


def params_class(params: int) -> str:
    """A coarse size class for lists and filters: tiny < 5 M ≤ small < 15 M ≤ medium
    < 30 M ≤ large < 60 M ≤ xlarge."""
    for limit, name in ((5e6, "tiny"), (15e6, "small"), (30e6, "medium"), (60e6, "large")):
        if params < limit:
            return name
    return "xlarge"


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One trainable architecture of the catalog."""

    id: str  # yolo11n-detect, rtdetr-l
    task: str  # detect | segment | pose | classify
    family: str  # yolo11 | rtdetr
    size: str  # n s m l x
    yaml: str  # the architecture YAML, as ultralytics resolves it: yolo11n-seg.yaml
    params: int  # parameter count of the YAML as shipped (80 classes; classify 1000)
    ram_per_image_mib: int  # CPU training, one 640 px image of a batch
    vram_per_image_mib: int  # GPU training (AMP), one 640 px image of a batch

    @property
    def params_class(self) -> str:
        return params_class(self.params)

    def resource_request(self, hyperparams: Mapping[str, Any], *, gpu: bool) -> ResourceRequest:
        """What a run with these hyperparameters asks the governor for (an estimate).

        ``gpu`` says whether it trains on a GPU (see :func:`wants_gpu` for "auto").
        Missing hyperparameters take the schema defaults' values used here:
        imgsz 640, batch 16, workers 2.
        """
        imgsz = int(hyperparams.get("imgsz", 640))
        batch = int(hyperparams.get("batch", 16))
        workers = int(hyperparams.get("workers", 2))
        scale = (imgsz / 640) ** 2 * batch
        model_bytes = self.params * BYTES_PER_PARAM
        # weights, last.pt/best.pt with optimizer state, plots and logs
        disk = 256 * MIB + self.params * 4 * 6
        if not gpu:  # ultralytics sets workers=0 on the CPU
            ram = RAM_BASE + model_bytes + int(self.ram_per_image_mib * MIB * scale)
            return ResourceRequest(
                cpu_cores=CPU_TRAIN_CORES, ram_bytes=_round_mib(ram), disk_bytes=disk
            )
        loaders = workers * RAM_PER_WORKER
        vram = VRAM_BASE + model_bytes + int(self.vram_per_image_mib * MIB * scale)
        return ResourceRequest(
            cpu_cores=1 + workers,
            ram_bytes=_round_mib(RAM_BASE + model_bytes + loaders),
            gpus=1,
            vram_mib=-(-vram // MIB),
            disk_bytes=disk,
        )


def _round_mib(n: int) -> int:
    return -(-n // MIB) * MIB


def wants_gpu(hyperparams: Mapping[str, Any], *, host_has_gpu: bool) -> bool:
    """Whether a run trains on a GPU: ``cuda`` always, ``auto`` when the box has one."""
    device = hyperparams.get("device", "auto")
    return device == "cuda" or (device == "auto" and host_has_gpu)


def _build() -> tuple[ModelEntry, ...]:
    entries = []
    for task in TASKS:
        for size, params in zip(SIZES, _PARAMS[task], strict=True):
            ram, vram = _DETECT_PER_IMAGE[size]
            factor = _TASK_FACTOR[task]
            entries.append(
                ModelEntry(
                    id=f"yolo11{size}-{task}",
                    task=task,
                    family="yolo11",
                    size=size,
                    yaml=f"yolo11{size}{_YAML_SUFFIX[task]}.yaml",
                    params=params,
                    ram_per_image_mib=round(ram * factor),
                    vram_per_image_mib=round(vram * factor),
                )
            )
    for size, params in _RTDETR_PARAMS.items():
        ram, vram = _DETECT_PER_IMAGE[size]
        entries.append(
            ModelEntry(
                id=f"rtdetr-{size}",
                task="detect",
                family="rtdetr",
                size=size,
                yaml=f"rtdetr-{size}.yaml",
                params=params,
                ram_per_image_mib=round(ram * _RTDETR_FACTOR),
                vram_per_image_mib=round(vram * _RTDETR_FACTOR),
            )
        )
    return tuple(entries)


CATALOG: tuple[ModelEntry, ...] = _build()
_BY_ID = {e.id: e for e in CATALOG}


def get(model_id: str) -> ModelEntry:
    """The catalog entry for ``model_id``; raises :class:`UnknownModel`."""
    try:
        return _BY_ID[model_id]
    except KeyError:
        raise UnknownModel(model_id) from None


def entries(task: str | None = None) -> tuple[ModelEntry, ...]:
    """The catalog, or the entries of one task."""
    return CATALOG if task is None else tuple(e for e in CATALOG if e.task == task)
