"""The live probe: psutil for cores, RAM and disk; NVML (nvidia-ml-py) for GPUs.

NVML is initialised once, lazily; when the library or driver is missing the
probe remembers why and reports no GPU with that note on every reading.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import psutil
import pynvml

from appliance.domain.governor import GpuReading, HostReading, MigSlice

MIB = 1 << 20


class HostProbe:
    name = "psutil+nvml"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._nvml: bool | None = None
        self._note = ""

    def read(self) -> HostReading:
        vm = psutil.virtual_memory()
        disk = psutil.disk_usage(str(_existing(self.data_dir)))
        gpus = self._gpus()
        return HostReading(
            cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1,
            ram_total=vm.total,
            ram_available=vm.available,
            disk_free=disk.free,
            load1=os.getloadavg()[0],
            gpus=gpus,
            gpu_note="" if gpus else self._note or "no NVIDIA GPU found",
        )

    def _gpus(self) -> tuple[GpuReading, ...]:
        if not self._nvml_ready():
            return ()
        try:
            return tuple(_gpu(i) for i in range(pynvml.nvmlDeviceGetCount()))
        except pynvml.NVMLError as exc:
            self._note = f"NVML failed: {exc}"
            return ()

    def _nvml_ready(self) -> bool:
        with self._lock:
            if self._nvml is None:
                try:
                    pynvml.nvmlInit()
                    self._nvml = True
                except pynvml.NVMLError as exc:
                    self._nvml = False
                    self._note = f"no NVIDIA driver ({exc})"
            return self._nvml

    def close(self) -> None:
        with self._lock:
            if self._nvml:
                pynvml.nvmlShutdown()
                self._nvml = None


def _gpu(index: int) -> GpuReading:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
    try:
        util = float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except pynvml.NVMLError:
        util = 0.0  # MIG mode and some boards do not report it
    name = pynvml.nvmlDeviceGetName(handle)
    return GpuReading(
        index=index,
        name=name.decode() if isinstance(name, bytes) else str(name),
        memory_total_mib=int(mem.total // MIB),
        memory_free_mib=int(mem.free // MIB),
        utilization=util,
        mig=_mig_slices(index, handle),
    )


def _mig_slices(index: int, handle: object) -> tuple[MigSlice, ...]:
    try:
        current, _pending = pynvml.nvmlDeviceGetMigMode(handle)
    except pynvml.NVMLError:
        return ()  # not a MIG-capable board
    if current != pynvml.NVML_DEVICE_MIG_ENABLE:
        return ()
    slices: list[MigSlice] = []
    for i in range(pynvml.nvmlDeviceGetMaxMigDeviceCount(handle)):
        try:
            mig = pynvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, i)
        except pynvml.NVMLError:
            continue  # an empty slot
        mem = pynvml.nvmlDeviceGetMemoryInfo(mig)
        slices.append(MigSlice(f"{index}:{i}", int(mem.total // MIB), _uuid(mig)))
    return tuple(slices)


def _uuid(handle: object) -> str:
    try:
        raw = pynvml.nvmlDeviceGetUUID(handle)
    except pynvml.NVMLError:
        return ""
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return text if text.startswith("MIG-") else f"MIG-{text}"


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
