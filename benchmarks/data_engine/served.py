"""A real `ahoy serve` for benchmarks, with its first admin made through the
one-time setup token it prints (the path a newcomer takes)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from benchmarks.data_engine.common import BIN, bench_env

ADMIN, PASSWORD = "bench", "bench-password-1"


@dataclass(frozen=True)
class Served:
    url: str
    token: str
    data_dir: Path

    def env(self, config_dir: Path) -> dict[str, str]:
        """Environment for `ahoy` CLI processes talking to this appliance."""
        return {
            **bench_env(),
            "AHOY_URL": self.url,
            "AHOY_TOKEN": self.token,
            "AHOY_CONFIG_DIR": str(config_dir),
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(data_dir: Path, store: str = "seaweedfs", timeout: float = 180) -> Iterator[Served]:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = data_dir / "serve.out"
    env = {
        **bench_env(),
        "AHOY_DATA_DIR": str(data_dir),
        "AHOY_PORT": str(port),
        "AHOY_BLOB_STORE": store,
    }
    with open(log, "w") as out:
        proc = subprocess.Popen([str(BIN / "ahoy"), "serve"], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        token = _first_admin(url, log, proc, timeout)
        yield Served(url, token, data_dir)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)


def _first_admin(url: str, log: Path, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ahoy serve exited:\n{log.read_text()[-3000:]}")
        found = re.search(r"ahoy_setup_\S+", log.read_text())
        if found:
            with contextlib.suppress(requests.ConnectionError):
                r = requests.post(
                    f"{url}/v1/setup",
                    json={"setup_token": found.group(0), "username": ADMIN, "password": PASSWORD},
                    timeout=30,
                )
                r.raise_for_status()
                return str(r.json()["token"])
        time.sleep(0.3)
    raise RuntimeError(f"ahoy serve did not come up:\n{log.read_text()[-3000:]}")
