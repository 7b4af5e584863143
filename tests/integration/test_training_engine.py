"""The training engine for real: a supervised worker trains yolo11n from its YAML on a
tiny generated dataset, on the CPU, offline; it is cancelled, timed out, refused and
failed on purpose; and the network guard is shown to block and report."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from appliance import child_events
from appliance.domain.training import events as ev
from appliance.training import supervise
from appliance.training.spec import InvalidTrainingSpec, TrainSpec
from tests.integration.yolo_dataset import make_detect_dataset

pytestmark = pytest.mark.integration

HP = {
    "epochs": 3,
    "imgsz": 128,
    "batch": 8,
    "workers": 0,
    "seed": 7,
    "deterministic": True,
    "device": "cpu",
}


@dataclasses.dataclass
class Run:
    outcome: supervise.Outcome
    events: list[ev.Event]
    peak_rss: int
    wall_s: float


def _peak_rss(pid: int, stop: threading.Event, out: list[int]) -> None:
    """Peak RSS of the worker and its children, sampled every 50 ms."""
    try:
        leader = psutil.Process(pid)
        while not stop.is_set():
            procs = [leader, *leader.children(recursive=True)]
            out.append(sum(p.memory_info().rss for p in procs if p.is_running()))
            time.sleep(0.05)
    except psutil.Error:
        pass


def train(spec: TrainSpec, **kwargs) -> Run:
    seen: list[ev.Event] = []
    began = time.monotonic()
    proc = supervise.start(spec, on_event=seen.append, **kwargs)
    stop, samples = threading.Event(), [0]
    sampler = threading.Thread(target=_peak_rss, args=(proc.pid, stop, samples), daemon=True)
    sampler.start()
    outcome = proc.wait(timeout=240)
    stop.set()
    sampler.join()
    return Run(outcome, seen, max(samples), time.monotonic() - began)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shapes")
    make_detect_dataset(root)
    return root


@pytest.fixture(scope="module")
def first_run(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("run1")
    run = train(TrainSpec.create(dataset, "yolo11n-detect", HP, out))
    epochs = [e.seconds for e in run.events if isinstance(e, ev.Epoch)]
    figures = {"wall_s": round(run.wall_s, 2), "epoch_s": epochs, "peak_rss_mb": run.peak_rss >> 20}
    print("training figures:", json.dumps(figures))  # shown with pytest -s
    return run


def _epochs(run: Run) -> list[ev.Epoch]:
    return [e for e in run.events if isinstance(e, ev.Epoch)]


def test_three_epochs_then_finished_with_artifacts(first_run: Run) -> None:
    outcome = first_run.outcome
    assert outcome.status == supervise.SUCCEEDED, outcome
    epochs = _epochs(first_run)
    assert [e.epoch for e in epochs] == [1, 2, 3]  # ultralytics' extra final call is not one
    for e in epochs:
        assert e.epochs == 3 and e.seconds > 0
        numbers = [*e.train_losses.values(), *e.val_losses.values()]
        numbers += [e.precision, e.recall, e.map50, e.map50_95, e.lr]
        assert set(e.train_losses) == set(e.val_losses) == {"box", "cls", "dfl"}
        assert all(isinstance(x, float) for x in numbers), e
    types = [e.type for e in first_run.events]
    assert types[0] == "started" and types[-1] == "finished"
    assert "progress" in types and "failed" not in types
    assert outcome.epochs_run == 3 and 1 <= outcome.best_epoch <= 3
    assert {"map50", "map50_95", "precision", "recall"} <= set(outcome.metrics)
    for name in ("best.pt", "last.pt", "results.csv", "args.yaml", "train.log"):
        assert outcome.artifacts[name].is_file(), name
    recorded = (outcome.artifacts["train.log"].parent / "events.jsonl").read_text().splitlines()
    assert [ev.parse_event(line) for line in recorded] == first_run.events


def test_the_run_opened_no_connection(first_run: Run) -> None:
    logs = [e.line for e in first_run.events if isinstance(e, ev.Log)]
    assert not [line for line in logs if "attempted connection" in line], logs
    assert "attempted connection" not in first_run.outcome.artifacts["train.log"].read_text()


def test_same_seed_same_numbers(first_run: Run, dataset: Path, tmp_path: Path) -> None:
    """Measured: on the CPU with deterministic=True and workers=0, two runs agree
    exactly (losses, metrics, learning rates); only durations differ."""
    second = train(TrainSpec.create(dataset, "yolo11n-detect", HP, tmp_path))
    assert second.outcome.status == supervise.SUCCEEDED

    def numbers(run: Run) -> list[dict]:
        return [
            {k: v for k, v in dataclasses.asdict(e).items() if k not in ("seconds", "t")}
            for e in _epochs(run)
        ]

    assert numbers(second) == numbers(first_run)
    assert second.outcome.metrics == first_run.outcome.metrics


def _group_members(pgid: int) -> list[int]:
    alive = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return alive


def test_cancel_kills_the_whole_process_group(
    first_run: Run, dataset: Path, tmp_path: Path
) -> None:
    """The worker starts a bystander child in its group (through a python wrapper),
    trains from uploaded weights (the first run's last.pt), and is cancelled."""
    wrapper = tmp_path / "python"
    wrapper.write_text(
        f'#!/bin/sh\nsleep 300 &\necho $! > "{tmp_path}/child.pid"\nexec {sys.executable} "$@"\n'
    )
    wrapper.chmod(0o755)
    weights = str(first_run.outcome.artifacts["last.pt"])
    spec = TrainSpec.create(dataset, weights, {**HP, "epochs": 100}, tmp_path / "out")
    proc = supervise.start(spec, python=str(wrapper))
    for event in proc.iter_events():
        if isinstance(event, ev.Progress | ev.Epoch):
            break
    child = int((tmp_path / "child.pid").read_text())
    assert set(_group_members(proc.pgid)) >= {proc.pid, child}
    began = time.monotonic()
    proc.cancel()
    outcome = proc.wait(timeout=30)
    assert time.monotonic() - began < 10
    assert outcome.status == supervise.CANCELLED
    assert _group_members(proc.pgid) == []
    assert [e.model for e in proc.events if isinstance(e, ev.Started)] == ["last.pt"]


def test_the_worker_exits_when_its_supervisor_is_gone(dataset: Path, tmp_path: Path) -> None:
    """No orphan training: with the event pipe's reader gone, the worker's next event
    write fails and it exits at once with status 3."""
    spec = TrainSpec.create(dataset, "yolo11n-detect", {**HP, "epochs": 100}, tmp_path)
    (tmp_path / "spec.json").write_text(spec.to_json())
    read_fd, write_fd = os.pipe()
    os.close(read_fd)  # the supervisor "died" before the worker said anything
    command = [sys.executable, "-m", "appliance.training.worker_main", str(tmp_path / "spec.json")]
    worker = subprocess.run(
        command,
        pass_fds=(write_fd,),
        env={**os.environ, child_events.FD_ENV: str(write_fd)},
        capture_output=True,
        timeout=60,
    )
    os.close(write_fd)
    assert worker.returncode == 3
    assert not (tmp_path / "run" / "weights").exists()


def test_time_limit_stops_the_run(dataset: Path, tmp_path: Path) -> None:
    spec = TrainSpec.create(dataset, "yolo11n-detect", HP, tmp_path, timeout_s=1.0)
    proc = supervise.start(spec)
    outcome = proc.wait(timeout=30)
    assert outcome.status == supervise.FAILED
    assert "time limit of 1 s" in outcome.error
    assert _group_members(proc.pgid) == []


def test_bad_hyperparameters_are_refused_before_any_process(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*args, **kwargs):
        raise AssertionError("a process was started")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    with pytest.raises(InvalidTrainingSpec) as err:
        spec = TrainSpec.create(
            dataset, "yolo11n-detect", {"epochs": -1, "optimizer": "Adamm"}, tmp_path / "o"
        )
        supervise.start(spec)
    assert err.value.fields == ["hyperparameters.epochs", "hyperparameters.optimizer"]
    assert "epochs: -1 is less than the minimum of 1" in str(err.value)
    assert "'Adamm' is not one of" in str(err.value)
    assert not (tmp_path / "o").exists()


def test_a_failing_run_reports_why(tmp_path: Path) -> None:
    data = tmp_path / "broken"
    data.mkdir()
    (data / "data.yaml").write_text(
        f"path: {data}\ntrain: images/train\nval: images/val\nnames:\n  0: a\n"
    )
    proc = supervise.start(TrainSpec.create(data, "yolo11n-detect", HP, tmp_path / "out"))
    outcome = proc.wait(timeout=60)
    assert outcome.status == supervise.FAILED and outcome.exit_code == 1
    failed = [e for e in proc.events if isinstance(e, ev.Failed)]
    assert len(failed) == 1 and failed[0].error == outcome.error
    assert "images not found" in outcome.error.lower() or "does not exist" in outcome.error
    assert outcome.hint.startswith("check the dataset")


GUARDED = """
import os, socket, sys
from appliance.training import guard
from appliance.child_events import EventWriter
from appliance.training.reporting import EventSink

sink = EventSink(EventWriter(int(sys.argv[1])))
guard.install(lambda message: sink.log(message, level="warning"))

def safety_net(event, args):  # runs only if the guard let a call through
    if event in ("socket.connect", "socket.getaddrinfo") and not guard.is_local(
        guard.destination(event, args)[0]
    ):
        raise SystemExit("the guard let a non-loopback call through")

sys.addaudithook(safety_net)
outcomes = []
for attempt in (
    lambda: socket.socket().connect(("10.255.255.1", 80)),  # no name lookup: connect itself
    lambda: socket.create_connection(("example.invalid", 443), timeout=1),
):
    try:
        attempt()
        outcomes.append("connected")
    except guard.NetworkBlocked as e:
        outcomes.append(type(e).__name__)
with socket.socket() as server:  # loopback stays allowed
    server.bind(("127.0.0.1", 0))
    server.listen()
    socket.create_connection(server.getsockname(), timeout=1).close()
    outcomes.append("loopback ok")
print(",".join(outcomes))
"""


def test_the_guard_blocks_and_reports_connections(tmp_path: Path) -> None:
    """The child cannot reach 10.255.255.1 even if the guard failed: a second audit
    hook, behind the guard, stops any non-loopback call the guard lets through."""
    read_fd, write_fd = os.pipe()
    child = subprocess.run(
        [sys.executable, "-c", GUARDED, str(write_fd)],
        pass_fds=(write_fd,),
        capture_output=True,
        text=True,
        timeout=60,
    )
    os.close(write_fd)
    with open(read_fd, "rb", buffering=0) as pipe:
        heard = list(child_events.read(pipe))
    logs = [ev.parse_event(h.json) for h in heard if isinstance(h, child_events.EventLine)]
    assert len(logs) == len(heard), heard
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "NetworkBlocked,NetworkBlocked,loopback ok"
    lines = [e.line for e in logs if isinstance(e, ev.Log) and e.level == "warning"]
    refused = "refused by the network guard"
    assert lines == [
        f"attempted connection to 10.255.255.1:80 (socket.connect) {refused}",
        f"attempted connection to example.invalid:443 (socket.getaddrinfo) {refused}",
    ]
