"""Signed audit checkpoints as JSON lines in an append-only file, and optionally
to syslog, so a copy lives where whoever can edit the catalog cannot reach.

One line per checkpoint: ``{"entry_id", "head", "at", "key_id", "sig"}``, the
signature (base64) over ``Checkpoint.message()``.
"""

from __future__ import annotations

import base64
import json
import logging
import logging.handlers
import os
import socket
from pathlib import Path

from appliance.adapters.signing.appliance_key import ApplianceKey
from appliance.domain.audit_chain import Checkpoint
from appliance.errors import ConfigError
from appliance.ports.audit_anchor import AnchorRead

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
log = logging.getLogger("ahoy.audit")


class CheckpointLog:
    def __init__(self, path: Path, key: ApplianceKey, syslog: str = "") -> None:
        self.path = path
        self.key = key
        self.key_id = key.key_id
        self.public_key = base64.b64encode(key.public_bytes).decode()
        self._syslog = syslog_handler(syslog) if syslog else None

    def append(self, checkpoint: Checkpoint) -> None:
        sig = base64.b64encode(self.key.sign(checkpoint.message())).decode()
        line = json.dumps(
            {**checkpoint.as_dict(), "key_id": self.key_id, "sig": sig}, sort_keys=True
        )
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
        fd = os.open(self.path, flags, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        log.info("audit checkpoint %s", line)
        if self._syslog is not None:
            self._syslog.emit(
                logging.LogRecord(
                    "ahoy.audit", logging.INFO, "", 0, f"ahoy-audit: {line}", (), None
                )
            )

    def read(self) -> AnchorRead:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return AnchorRead()
        good: list[Checkpoint] = []
        bad: list[str] = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            why = self._check(line, good)
            if why:
                bad.append(f"{self.path.name} line {number}: {why}")
        return AnchorRead(good, bad)

    def _check(self, line: str, good: list[Checkpoint]) -> str:
        try:
            doc = json.loads(line)
            cp = Checkpoint(int(doc["entry_id"]), str(doc["head"]), float(doc["at"]))
            sig = base64.b64decode(doc["sig"], validate=True)
        except (ValueError, KeyError, TypeError):
            return "not a checkpoint line"
        if doc.get("key_id") != self.key_id:
            return f"signed by another key ({doc.get('key_id')!r})"
        if not self.key.verify(sig, cp.message()):
            return "its signature does not match: the checkpoint file was edited"
        good.append(cp)
        return ""

    def close(self) -> None:
        if self._syslog is not None:
            self._syslog.close()


def syslog_handler(address: str) -> logging.handlers.SysLogHandler:
    """``/dev/log`` (a local socket path), ``udp:HOST:PORT`` or ``tcp:HOST:PORT``."""
    kind, _, rest = address.partition(":")
    facility = logging.handlers.SysLogHandler.LOG_AUTHPRIV
    try:
        if kind in ("udp", "tcp"):
            host, _, port = rest.rpartition(":")
            sock = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
            return logging.handlers.SysLogHandler(
                (host.strip("[]"), int(port)), facility, socktype=sock
            )
        if address.startswith("/"):
            return logging.handlers.SysLogHandler(address, facility)
    except (ValueError, OSError) as exc:
        raise ConfigError(
            f"audit_syslog {address!r} cannot be opened ({exc})",
            hint="set AHOY_AUDIT_SYSLOG to /dev/log, udp:HOST:PORT or tcp:HOST:PORT",
        ) from None
    raise ConfigError(
        f"audit_syslog {address!r} is not a syslog address",
        hint="set AHOY_AUDIT_SYSLOG to /dev/log, udp:HOST:PORT or tcp:HOST:PORT",
    )
