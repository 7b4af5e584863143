"""The training worker: ``python -m appliance.training.worker_main SPEC.json``.

Order matters: the offline environment is applied and the network guard installed
*before* ultralytics (or torch) is imported, so nothing they do at import time can
reach the network. Events (appliance.domain.training.events) go to the event
channel the supervisor passed (appliance.child_events) or, run by hand, to stdout;
ultralytics' own console output stays on stdout/stderr, which the supervisor
writes to ``OUTPUT/train.log``.

Exit status: 0 finished, 1 failed (after a ``failed`` event), 3 supervisor gone.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from appliance import child_events
from appliance.domain.training.events import Artifact, Failed, Finished, Started
from appliance.training import guard
from appliance.training.offline import apply_offline_env
from appliance.training.reporting import EventSink, TrainerReporter
from appliance.training.spec import TrainSpec

LOG_NAME = "train.log"
_PLOTS = ("*.png", "*.jpg")
_KNOWN_BAD_AMP_GPUS = re.compile(
    r"(nvidia|geforce|quadro|tesla).*?(1660|1650|1630|t400|t550|t600|t1000|t1200|t2000|k40m)",
    re.IGNORECASE,
)


def offline_amp_check(model: Any) -> bool:
    """Ultralytics' AMP self-test downloads yolo26n.pt; offline, trust AMP on CUDA
    except on the GPUs ultralytics itself lists as broken."""
    import torch

    device = next(model.parameters()).device
    if device.type != "cuda":
        return False
    return not _KNOWN_BAD_AMP_GPUS.search(torch.cuda.get_device_name(device))


def _build_model(spec: TrainSpec) -> tuple[Any, str]:
    """The YOLO/RT-DETR model, from the catalog YAML (random init) or the weights."""
    from ultralytics import RTDETR, YOLO

    from appliance.domain.training import catalog

    model: Any
    weights = spec.weights
    if weights is not None:
        model = YOLO(str(weights))
        if type(model.model).__name__ == "RTDETRDetectionModel":
            model = RTDETR(str(weights))  # its own trainer and loss
        return model, weights.name
    entry = catalog.get(spec.model)
    model = RTDETR(entry.yaml) if entry.family == "rtdetr" else YOLO(entry.yaml, task=entry.task)
    return model, entry.id


def _versions() -> dict[str, str]:
    import torch
    import ultralytics

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ultralytics": ultralytics.__version__,
    }


def _artifacts(spec: TrainSpec) -> list[Artifact]:
    run = spec.run_dir
    found = [run / "weights" / "best.pt", run / "weights" / "last.pt"]
    found += [run / "results.csv", run / "args.yaml"]
    found += sorted(p for pattern in _PLOTS for p in run.glob(pattern))
    found.append(spec.output_dir / LOG_NAME)
    return [Artifact(name=p.name, path=str(p), size=p.stat().st_size) for p in found if p.is_file()]


def train(spec: TrainSpec, sink: EventSink) -> Finished:
    """Run the training described by ``spec``, reporting to ``sink``."""
    import torch
    import ultralytics.engine.trainer as trainer_module

    if spec.threads:
        torch.set_num_threads(spec.threads)

    trainer_module.check_amp = offline_amp_check  # type: ignore[attr-defined]
    started = time.monotonic()
    model, name = _build_model(spec)
    reporter = TrainerReporter(sink)
    reporter.attach(model)
    args = spec.train_args()
    sink.emit(
        Started(
            pid=os.getpid(),
            model=name,
            task=str(model.task),
            epochs=int(args["epochs"]),
            device=str(args["device"]),
            versions=_versions(),
        )
    )
    model.train(**args)
    for artifact in _artifacts(spec):
        sink.emit(artifact)
    return Finished(
        metrics=reporter.final,
        best_epoch=reporter.best_epoch,
        epochs_run=len(reporter.epochs_seen),
        seconds=round(time.monotonic() - started, 3),
    )


def hint_for(error: BaseException) -> str:
    """What the user can do about a failed run, when we can tell."""
    text = str(error).lower()
    if isinstance(error, guard.NetworkBlocked):
        return "something tried to reach the network; training runs offline (see the log)"
    if "out of memory" in text:
        return "lower batch or imgsz, or pick a smaller model"
    if isinstance(error, FileNotFoundError) or "dataset" in text or "images not found" in text:
        return "check the dataset: data.yaml paths, images and labels"
    return "see train.log for ultralytics' own output"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m appliance.training.worker_main")
    parser.add_argument("spec", type=Path)
    args = parser.parse_args(argv)
    sink = EventSink(child_events.writer())
    try:
        spec = TrainSpec.from_json(args.spec.read_text())
        spec.output_dir.mkdir(parents=True, exist_ok=True)
        apply_offline_env(spec.ultralytics_config_dir)
        guard.install(lambda message: _report(sink, message))
        finished = train(spec, sink)
    except Exception as error:
        traceback.print_exc()  # into train.log
        kind = type(error).__name__
        sink.emit(Failed(error=str(error) or repr(error), hint=hint_for(error), kind=kind))
        return 1
    sink.emit(finished)
    return 0


def _report(sink: EventSink, message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # the log shows it too
    sink.log(message, level="warning")


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown (~1 s with torch loaded, measured): everything the
    # run writes is closed by now, and the supervisor sweeps the process group.
    os._exit(status)
