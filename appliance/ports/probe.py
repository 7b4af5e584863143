"""HardwareProbe: what this box has right now (cores, RAM, disk, GPUs).

Every adapter passes ``tests/integration/probe_contract.py``. A box with no GPU,
or no NVIDIA driver, is a normal reading (``gpus == ()`` with ``gpu_note`` saying
why), never an error.
"""

from __future__ import annotations

from typing import Protocol

from appliance.domain.governor import HostReading


class HardwareProbe(Protocol):
    name: str

    def read(self) -> HostReading:
        """A fresh reading; cheap enough to call on every admission decision."""
        ...
