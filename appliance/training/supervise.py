"""The supervisor's side: start a training worker, follow its events, cancel it, and
tell how it ended.

The worker runs in its own session and process group (``start_new_session``), so
cancelling kills it together with its data loader processes and anything else it
started: SIGTERM to the group, then SIGKILL after a grace period, and a final
SIGKILL sweep of the group whenever the worker ends. Events arrive on the
worker's event channel (appliance.child_events: never mixed with ultralytics'
prints, which go to ``OUTPUT/train.log``); each is also appended, as its JSON, to
``OUTPUT/events.jsonl``. If the supervisor dies, the worker's next event write
fails and it exits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import appliance
from appliance import child_events
from appliance.domain.training.events import (
    Artifact,
    Event,
    Failed,
    Finished,
    Log,
    MalformedEvent,
    parse_event,
)
from appliance.training.offline import offline_env
from appliance.training.spec import TrainSpec
from appliance.training.worker_main import LOG_NAME

EVENTS_NAME = "events.jsonl"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"

#: open files allowed to the worker (data loaders hold a few per worker)
NOFILE_LIMIT = 4096


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``status`` is succeeded, failed or cancelled."""

    status: str
    exit_code: int | None
    metrics: dict[str, float | None] = field(default_factory=dict)
    best_epoch: int = 0
    epochs_run: int = 0
    artifacts: dict[str, Path] = field(default_factory=dict)
    error: str = ""
    hint: str = ""
    seconds: float = 0.0


class TrainingProcess:
    """A running worker. Use :func:`start` to make one."""

    def __init__(
        self,
        spec: TrainSpec,
        popen: subprocess.Popen[bytes],
        channel: BinaryIO,
        on_event: Callable[[Event], None] | None,
    ) -> None:
        self.spec = spec
        self.popen = popen
        self.pid = popen.pid
        self.pgid = popen.pid  # leader of its own session and group
        self.events: list[Event] = []
        self._on_event = on_event
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._started = time.monotonic()
        self._cancelled = False
        self._timed_out = False
        self._kill_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, args=(channel,), daemon=True)
        self._reader.start()
        self._timer: threading.Timer | None = None
        if spec.timeout_s:
            self._timer = threading.Timer(spec.timeout_s, self._timeout)
            self._timer.daemon = True
            self._timer.start()

    def _read(self, channel: BinaryIO) -> None:
        with open(self.spec.output_dir / EVENTS_NAME, "a", encoding="utf-8") as record:
            for heard in child_events.read(channel):
                event: Event
                if isinstance(heard, child_events.Garbled):
                    event = Log(line=heard.as_log(), level="error", t=time.time())
                else:
                    try:
                        event = parse_event(heard.json)
                    except MalformedEvent as e:
                        event = Log(line=str(e), level="error", t=time.time())
                    else:
                        record.write(heard.json + "\n")
                        record.flush()
                self.events.append(event)
                self._queue.put(event)
                if self._on_event is not None:
                    with contextlib.suppress(Exception):  # a bad callback must not stop reading
                        self._on_event(event)
        self._queue.put(None)

    def iter_events(self) -> Iterator[Event]:
        """Events as they arrive, until the worker closes the channel. One consumer."""
        while (event := self._queue.get()) is not None:
            yield event
        self._queue.put(None)  # a later call ends at once too

    def running(self) -> bool:
        return self.popen.poll() is None

    def cancel(self, grace_s: float = 5.0) -> None:
        """Stop the run: SIGTERM to the whole process group, SIGKILL after ``grace_s``."""
        self._cancelled = True
        self._kill_group(grace_s)

    def _timeout(self) -> None:
        self._timed_out = True
        self._kill_group(5.0)

    def _kill_group(self, grace_s: float) -> None:
        with self._kill_lock:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=grace_s)
            self._signal_group(signal.SIGKILL)
            self.popen.wait()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)

    def wait(self, timeout: float | None = None) -> Outcome:
        """Wait for the worker to end (raises ``subprocess.TimeoutExpired`` after
        ``timeout``), sweep its process group, and say how it went."""
        code = self.popen.wait(timeout=timeout)
        self._signal_group(signal.SIGKILL)  # nothing of the run outlives it
        self._reader.join(timeout=10)
        if self._timer is not None:
            self._timer.cancel()
        return self._outcome(code)

    def _outcome(self, code: int) -> Outcome:
        finished = next((e for e in self.events if isinstance(e, Finished)), None)
        failed = next((e for e in self.events if isinstance(e, Failed)), None)
        ended = Outcome(
            FAILED,
            exit_code=code,
            artifacts={e.name: Path(e.path) for e in self.events if isinstance(e, Artifact)},
            seconds=round(time.monotonic() - self._started, 3),
        )
        if self._cancelled:
            return dataclasses.replace(ended, status=CANCELLED)
        if self._timed_out:
            limit = f"stopped after the time limit of {self.spec.timeout_s:g} s"
            return dataclasses.replace(ended, error=limit, hint="raise the limit or train less")
        if finished is not None and code == 0:
            return dataclasses.replace(
                ended,
                status=SUCCEEDED,
                metrics=finished.metrics,
                best_epoch=finished.best_epoch,
                epochs_run=finished.epochs_run,
            )
        if failed is not None:
            return dataclasses.replace(ended, error=failed.error, hint=failed.hint)
        return dataclasses.replace(
            ended,
            error=f"the training worker ended with {_describe_exit(code)} without reporting",
            hint="the end of train.log: " + _tail(self.spec.output_dir / LOG_NAME),
        )


def start(
    spec: TrainSpec,
    *,
    env_extra: Mapping[str, str] | None = None,
    on_event: Callable[[Event], None] | None = None,
    python: str = sys.executable,
) -> TrainingProcess:
    """Launch the worker for ``spec`` (already validated) and return at once.

    ``on_event`` is called on a reader thread for every event as it arrives.
    """
    out = spec.output_dir
    out.mkdir(parents=True, exist_ok=True)
    spec_path = out / "spec.json"
    spec_path.write_text(spec.to_json())
    channel = child_events.Channel()
    with open(out / LOG_NAME, "ab") as log:
        try:
            popen = subprocess.Popen(
                [python, "-m", "appliance.training.worker_main", str(spec_path)],
                pass_fds=channel.pass_fds,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=out,
                env=channel.child_env(_environment(spec, env_extra)),
                start_new_session=True,
            )
        except BaseException:
            channel.close()
            raise
    events = channel.parent_end()
    _limit(popen.pid)
    return TrainingProcess(spec, popen, events, on_event)


def _environment(spec: TrainSpec, extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(offline_env(spec.ultralytics_config_dir))
    root = str(Path(appliance.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    if spec.threads:  # torch sizes its pools from these when it loads
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(spec.threads)
    if spec.device() == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # a CPU run does not touch (or hold memory on) a GPU
    elif spec.devices:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(spec.devices)  # the governor's grant
    env.update(extra or {})
    return env


def _limit(pid: int) -> None:
    """No core dumps (weights and images in memory), a bounded number of open files.
    Set from here with prlimit, as preexec_fn is unsafe in a threaded parent;
    children forked later inherit them. Memory is left unlimited: CUDA maps huge
    virtual ranges, so RLIMIT_AS would break GPU runs."""
    if not hasattr(resource, "prlimit"):
        return
    with contextlib.suppress(OSError, ValueError):
        resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError, ValueError):
        _soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        cap = NOFILE_LIMIT if hard == resource.RLIM_INFINITY else min(NOFILE_LIMIT, hard)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (cap, cap))


def _describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
    return f"exit status {code}"


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty)"
