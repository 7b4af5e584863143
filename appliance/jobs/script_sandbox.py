"""A script-mode job's sandbox: its files on the host, its environment inside, and
how what it prints is heard.

On the host, under the job's scratch dir: ``job/`` (train.py, params.json,
requirements.txt: read-only inside, under /job), ``out/`` (/out) and
``ultralytics/`` (Ultralytics' settings and fonts, writable inside). When the
appliance runs as root, the script runs as a user of its own (from a range no
one else uses), which owns what it is shown and what it may write (``hand_over``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from appliance.jobs import script_contract as contract
from appliance.jobs.kinds import JobHandle
from appliance.sandbox import bwrap
from appliance.sandbox import run as sandbox
from appliance.training.offline import prepare_config_dir

CONFIG_INSIDE = f"{bwrap.JOB}/ultralytics"
MAX_LOG_LINES = 20_000
#: each job's own unprivileged user (when the appliance runs as root): it owns
#: nothing on the box, and the kernel counts its processes for it alone
UID_BASE, UID_SPAN = 1_900_000_000, 1 << 24


def job_dir(job: JobHandle, scratch: Path) -> tuple[bwrap.Layout, int]:
    """Write the script's inputs and make its writable dirs; the layout and the uid."""
    p = job.params
    inputs, out, config = scratch / "job", scratch / "out", scratch / "ultralytics"
    for d in (inputs, out):
        d.mkdir(parents=True, exist_ok=True)
    script = inputs / "train.py"
    script.write_bytes(job.ctx.blobs.read(job.ws, p["script"]))
    (inputs / "params.json").write_text(json.dumps(p["params"]))
    files = {"params.json": inputs / "params.json"}
    if p["requirements"]:
        (inputs / "requirements.txt").write_bytes(job.ctx.blobs.read(job.ws, p["requirements"]))
        files["requirements.txt"] = inputs / "requirements.txt"
    ultralytics_config(config)
    uid = UID_BASE + int(job.id, 16) % UID_SPAN
    if os.geteuid() == 0:
        for d in (out, config, inputs, scratch / "data"):
            if d.exists():
                hand_over(d, uid)
    layout = bwrap.Layout(
        script=script,
        output=out,
        data=scratch / "data",
        files=files,
        writable={CONFIG_INSIDE: config},
        hide=(job.ctx.settings.data_dir.resolve(),),
    )
    return layout, uid


def hand_over(root: Path, uid: int) -> None:
    """Give the sandbox's user what it is shown (read-only binds for /job and /data)
    and may write (/out, the config dir). Everything under the data dir is private
    (0700/0600); group root (0750/0640) lets bubblewrap in, which runs as root
    without capabilities (so without overriding permissions) until the launcher
    becomes that user."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        os.chown(path, uid, 0)
        os.chmod(path, 0o750 if path.is_dir() else 0o640)


def ultralytics_config(config: Path) -> None:
    """Settings and fonts, so Ultralytics reaches for nothing; its directories as the
    script sees them (its runs land in /out, so they are kept)."""
    prepare_config_dir(config)
    path = config / "Ultralytics" / "settings.json"
    settings = json.loads(path.read_text())
    settings.update(
        datasets_dir=bwrap.DATA,
        weights_dir=f"{CONFIG_INSIDE}/weights",
        runs_dir=f"{bwrap.OUT}/runs",
    )
    path.write_text(json.dumps(settings, indent=2))


def env(limits: sandbox.Limits) -> dict[str, str]:
    """All of the script's environment (bwrap clears the rest)."""
    threads = str(limits.cpu_cores)
    venv_bin = str(Path(sys.executable).parent)
    return {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "USER": "sandbox",
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "TORCH_HOME": "/tmp/torch",
        **{k: threads for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "0",
        "YOLO_CONFIG_DIR": CONFIG_INSIDE,
        "HF_HUB_OFFLINE": "1",
        "AHOY_DATA": bwrap.DATA,
        "AHOY_OUT": bwrap.OUT,
        "AHOY_PARAMS": f"{bwrap.JOB}/params.json",
        "AHOY_THREADS": threads,
    }


def said(limits: sandbox.Limits) -> str:
    """The limits, as the job's log states them before the script starts."""
    return (
        f"{limits.cpu_cores} core(s), {limits.ram_bytes >> 20} MiB, {limits.timeout_s:g} s,"
        f" {limits.processes} processes, no network"
    )


def as_config(limits: sandbox.Limits) -> dict[str, Any]:
    return {
        "cpu_cores": limits.cpu_cores,
        "ram_bytes": limits.ram_bytes,
        "timeout_s": limits.timeout_s,
        "output_bytes": limits.output_bytes,
        "processes": limits.processes,
    }


class Listener:
    """The script's output: ``@ahoy {json}`` lines are its events (epoch, progress,
    metrics), the rest its log (capped, so a chatty script cannot flood the catalog).
    A script is no engine: it has no event channel and prints its events among its
    log, as docs/training.md tells users to (see appliance.child_events)."""

    def __init__(self, job: JobHandle) -> None:
        self.job = job
        self.lines = 0
        self.last = ""

    async def line(self, line: str) -> None:
        event = contract.event_of(line)
        if event is not None:
            await self._event(*event)
            return
        self.lines += 1
        if line.strip():
            self.last = line.strip()[:300]
        if self.lines < MAX_LOG_LINES:
            await self.job.log(line)
        elif self.lines == MAX_LOG_LINES:
            await self.job.log(f"(the log stops here: more than {MAX_LOG_LINES} lines)")

    async def _event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "progress":
            await self.job.progress(data["done"], data["total"], str(data.get("unit", "step")))
            return
        await self.job.event(kind, data)
        epoch, epochs = data.get("epoch"), data.get("epochs")
        if kind == "epoch" and isinstance(epoch, int) and isinstance(epochs, int):
            await self.job.progress(epoch, epochs, "epoch")
