"""The resource governor's admission policy: does a job fit this box, now, later or never?

Pure: it reads a :class:`HostReading` (what the HardwareProbe saw), the requests of
the jobs already running, and how many jobs wait ahead; it answers with a
:class:`Decision`. The sharing strategy follows the platform brief:

* no GPU: CPU/RAM bound, GPU jobs rejected; concurrency by free cores and RAM;
* GPUs: a GPU job takes whole GPUs, one job per GPU (its VRAM must fit the GPU);
* MIG: a GPU partitioned into slices schedules each slice as its own unit.

Running jobs are accounted by what they asked for, not by what the live reading
says is free: a job that has just started has not allocated its memory yet. The
live reading still caps RAM and VRAM, since other programs share the box.
The queue is first come, first served: a job never overtakes one waiting ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MIB = 1 << 20
GIB = 1 << 30

RUN = "run"
QUEUE = "queue"
REJECT = "reject"


@dataclass(frozen=True, slots=True)
class MigSlice:
    """One MIG instance: addressed as ``gpu:slice``; CUDA knows it by ``uuid``."""

    id: str
    memory_mib: int
    uuid: str = ""  # "MIG-…": what CUDA_VISIBLE_DEVICES takes for a slice


@dataclass(frozen=True, slots=True)
class GpuReading:
    index: int
    name: str
    memory_total_mib: int
    memory_free_mib: int
    utilization: float = 0.0  # 0..100
    mig: tuple[MigSlice, ...] = ()


@dataclass(frozen=True, slots=True)
class HostReading:
    cores: int
    ram_total: int
    ram_available: int
    disk_free: int
    load1: float = 0.0
    gpus: tuple[GpuReading, ...] = ()
    gpu_note: str = ""  # why no GPU was seen, when none was ("no NVIDIA driver", ...)


@dataclass(frozen=True, slots=True)
class ResourceRequest:
    cpu_cores: int = 1
    ram_bytes: int = 1 * GIB
    gpus: int = 0
    vram_mib: int = 0  # per GPU (or per MIG slice)
    disk_bytes: int = 0

    def describe(self) -> str:
        parts = [f"{self.cpu_cores} core(s)", f"{_gib(self.ram_bytes)} RAM"]
        if self.gpus:
            parts.append(f"{self.gpus} GPU(s) with {self.vram_mib} MiB each")
        if self.disk_bytes:
            parts.append(f"{_gib(self.disk_bytes)} disk")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Running:
    """A job holding resources: what it asked for and which GPUs/slices it got."""

    job_id: str
    request: ResourceRequest
    devices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    #: RAM kept for the appliance itself, weed and the OS; jobs never get it.
    reserved_ram: int = 2 * GIB
    #: Cores kept for serving the API while jobs run (0 on a 1-core box).
    reserved_cores: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: str  # run | queue | reject
    reason: str
    devices: tuple[str, ...] = ()  # GPUs ("0") or MIG slices ("0:1") to use
    position: int = 0  # 1-based place in the queue when queued
    waiting_for: tuple[str, ...] = field(default=())  # what is short now
    cuda_visible: tuple[str, ...] = ()  # the devices as CUDA names them (MIG → uuid)

    def as_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "devices": list(self.devices),
            "cuda_visible_devices": ",".join(self.cuda_visible),
            "position": self.position,
            "waiting_for": list(self.waiting_for),
        }


def decide(
    request: ResourceRequest,
    host: HostReading,
    running: Sequence[Running] = (),
    waiting_ahead: int = 0,
    policy: Policy = Policy(),
) -> Decision:
    never = never_fits(request, host, policy)
    if never:
        return Decision(REJECT, never)
    short, devices = _short_now(request, host, running, policy)
    if not short and waiting_ahead == 0:
        return Decision(RUN, "fits now", devices=devices, cuda_visible=cuda_names(devices, host))
    if not short:
        short = [f"{waiting_ahead} job(s) queued ahead"]
    return Decision(
        QUEUE,
        "waits for " + "; ".join(short),
        position=waiting_ahead + 1,
        waiting_for=tuple(short),
    )


def never_fits(request: ResourceRequest, host: HostReading, policy: Policy = Policy()) -> str:
    """Why ``request`` cannot run on this box even when it is idle ("" if it can):
    what it needs, then every way this box falls short."""
    short = _gpu_shortfall(request, host)
    usable_cores = max(1, host.cores - policy.reserved_cores)
    if request.cpu_cores > usable_cores:
        short.append(f"this box has {usable_cores} core(s) for jobs")
    usable_ram = max(0, host.ram_total - policy.reserved_ram)
    if request.ram_bytes > usable_ram:
        short.append(f"this box has {_gib(usable_ram)} RAM for jobs")
    if request.disk_bytes > host.disk_free:
        short.append(f"the data disk has {_gib(host.disk_free)} free")
    return "; ".join([f"it needs {request.describe()}", *short]) if short else ""


def _gpu_shortfall(request: ResourceRequest, host: HostReading) -> list[str]:
    if not request.gpus:
        return []
    if not host.gpus:
        return [
            f"this box has no GPU ({host.gpu_note})" if host.gpu_note else "this box has no GPU"
        ]
    units = _units(host)
    big_enough = [u for u in units if u.memory_mib >= request.vram_mib]
    if not big_enough:
        return [f"the largest GPU here has {max(u.memory_mib for u in units)} MiB"]
    if request.gpus > 1 and any(g.mig for g in host.gpus):
        return ["a multi-GPU job cannot run on MIG slices"]
    if len(big_enough) < request.gpus:
        return [f"this box has {len(big_enough)} GPU(s) large enough"]
    return []


def cuda_names(devices: Sequence[str], host: HostReading) -> tuple[str, ...]:
    """What CUDA_VISIBLE_DEVICES takes for granted units: a GPU's index, a MIG
    slice's ``MIG-…`` uuid (CUDA does not address slices as ``gpu:slice``)."""
    uuids = {s.id: s.uuid for g in host.gpus for s in g.mig if s.uuid}
    return tuple(uuids.get(d, d) for d in devices)


@dataclass(frozen=True, slots=True)
class _Unit:
    """A schedulable GPU unit: a whole GPU, or one MIG slice of it."""

    id: str
    memory_mib: int
    free_mib: int


def _units(host: HostReading) -> list[_Unit]:
    units: list[_Unit] = []
    for g in host.gpus:
        if g.mig:  # free memory per slice is not read; its size is its budget
            units += [_Unit(s.id, s.memory_mib, s.memory_mib) for s in g.mig]
        else:
            units.append(_Unit(str(g.index), g.memory_total_mib, g.memory_free_mib))
    return units


def _short_now(
    request: ResourceRequest, host: HostReading, running: Sequence[Running], policy: Policy
) -> tuple[list[str], tuple[str, ...]]:
    short: list[str] = []
    cores_used = sum(r.request.cpu_cores for r in running)
    free_cores = max(1, host.cores - policy.reserved_cores) - cores_used
    if request.cpu_cores > free_cores:
        short.append(f"{request.cpu_cores} core(s) ({max(0, free_cores)} free)")
    ram_used = sum(r.request.ram_bytes for r in running)
    free_ram = min(host.ram_total - policy.reserved_ram - ram_used, host.ram_available)
    if request.ram_bytes > free_ram:
        short.append(f"{_gib(request.ram_bytes)} RAM ({_gib(max(0, free_ram))} free)")
    devices: tuple[str, ...] = ()
    if request.gpus:
        busy = {d for r in running for d in r.devices}
        free = [
            u
            for u in _units(host)
            if u.id not in busy
            and u.memory_mib >= request.vram_mib
            and u.free_mib >= request.vram_mib
        ]
        if len(free) < request.gpus:
            short.append(f"{request.gpus} free GPU(s) with {request.vram_mib} MiB")
        else:
            devices = tuple(u.id for u in free[: request.gpus])
    return short, devices


def _gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"
