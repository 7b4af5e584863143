"""Training benchmark: what running training as a supervised subprocess costs over
calling ``YOLO(...).train(...)`` in-process, on the same generated data and epochs.

    python benchmarks/bench_training.py                 # CPU, yolo11n, 10 epochs
    python benchmarks/bench_training.py --device cuda --vram --json out.json

Order: supervised (warms the dataset's label cache), in-process, supervised again;
the ratios use the second supervised run. Reported: wall and CPU time of each (CPU
time is the steadier figure on a shared box), the fixed cost (interpreter start,
imports, exit), mean seconds per epoch of each (the part that grows with the run),
the worker's peak RSS, and any attempted connection the network guard reported.
``--vram`` adds the peak CUDA memory of one 640 px, batch 16 epoch for each yolo11
detect size (the catalog's VRAM column).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from appliance.domain.training.events import Epoch, Log  # noqa: E402
from appliance.training import supervise  # noqa: E402
from appliance.training.offline import apply_offline_env  # noqa: E402
from appliance.training.reporting import is_final_eval  # noqa: E402
from appliance.training.spec import TrainSpec  # noqa: E402
from appliance.training.worker_main import offline_amp_check  # noqa: E402
from tests.integration.yolo_dataset import make_detect_dataset  # noqa: E402


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def supervised(spec: TrainSpec) -> dict[str, Any]:
    cpu = _cpu_s(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    proc = supervise.start(spec)
    peak = [0]

    def sample() -> None:
        try:
            leader = psutil.Process(proc.pid)
            while proc.running():
                tree = [leader, *leader.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree))
                time.sleep(0.05)
        except psutil.Error:
            pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    outcome = proc.wait()
    wall = time.monotonic() - began
    sampler.join()
    assert outcome.status == supervise.SUCCEEDED, outcome
    epochs = [e.seconds for e in proc.events if isinstance(e, Epoch)]
    guard = [e.line for e in proc.events if isinstance(e, Log) and "attempted conn" in e.line]
    return {
        "wall_s": wall,
        "cpu_s": _cpu_s(resource.RUSAGE_CHILDREN) - cpu,
        "epoch_s": epochs,
        "peak_rss_mb": peak[0] >> 20,
        "guard_reports": guard,
    }


def in_process(spec: TrainSpec) -> dict[str, Any]:
    from ultralytics import YOLO

    epochs: list[float] = []

    def on_fit_epoch_end(trainer: Any) -> None:
        if not is_final_eval(trainer.metrics or {}):
            epochs.append(trainer.epoch_time)

    cpu = _cpu_s(resource.RUSAGE_SELF)
    began = time.monotonic()
    model = YOLO("yolo11n.yaml")
    model.add_callback("on_fit_epoch_end", on_fit_epoch_end)
    model.train(**spec.train_args())
    wall = time.monotonic() - began
    return {"wall_s": wall, "cpu_s": _cpu_s(resource.RUSAGE_SELF) - cpu, "epoch_s": epochs}


def vram_table(data: Path, out: Path) -> dict[str, float]:
    """Peak reserved CUDA memory (MiB) of one epoch at 640 px, batch 16, per size."""
    import torch
    from ultralytics import YOLO

    table = {}
    for size in "nsmlx":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        YOLO(f"yolo11{size}.yaml").train(
            data=str(data), epochs=1, imgsz=640, batch=16, workers=2, device="0",
            project=str(out), name=f"vram-{size}", exist_ok=True, plots=False, verbose=False,
        )  # fmt: skip
        table[f"yolo11{size}-detect"] = torch.cuda.max_memory_reserved() / 2**20
        print(f"VRAM yolo11{size}: {table[f'yolo11{size}-detect']:.0f} MiB", flush=True)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--imgsz", type=int, default=128)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--vram", action="store_true", help="also measure the VRAM column")
    parser.add_argument("--plots", action="store_true", help="let ultralytics draw plots")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-training-"))
    data = make_detect_dataset(base / "data", train=args.images, val=args.images // 4)
    hp = {"epochs": args.epochs, "imgsz": args.imgsz, "batch": 8, "workers": 0, "seed": 1}
    hp["device"] = args.device

    def spec(name: str) -> TrainSpec:
        return TrainSpec.create(
            data.parent, "yolo11n-detect", hp, base / name, plots=args.plots,
            devices=("0",) if args.device == "cuda" else (),
            config_dir=base / "ultralytics-config",
        )  # fmt: skip

    apply_offline_env(base / "ultralytics-config")  # the in-process run gets the same env
    import ultralytics.engine.trainer

    ultralytics.engine.trainer.check_amp = offline_amp_check  # as the worker does
    figures: dict[str, Any] = {"epochs": args.epochs, "images": args.images, "imgsz": args.imgsz}
    figures["device"] = args.device
    figures["supervised_cold"] = supervised(spec("sup-cold"))
    figures["in_process"] = in_process(spec("inproc"))
    figures["supervised"] = supervised(spec("sup"))
    sup, inp = figures["supervised"], figures["in_process"]
    figures["ratio"] = sup["wall_s"] / inp["wall_s"]
    figures["cpu_ratio"] = sup["cpu_s"] / inp["cpu_s"]
    figures["fixed_cost_s"] = sup["wall_s"] - inp["wall_s"]
    per_sup, per_inp = statistics.mean(sup["epoch_s"]), statistics.mean(inp["epoch_s"])
    figures["epoch_ratio"] = per_sup / per_inp
    if args.vram:
        figures["vram_mib"] = vram_table(data, base / "vram")
    print(
        f"in-process {inp['wall_s']:.2f} s, supervised {sup['wall_s']:.2f} s "
        f"(ratio {figures['ratio']:.3f}, fixed cost {figures['fixed_cost_s']:.2f} s; "
        f"CPU time ratio {figures['cpu_ratio']:.3f}); "
        f"per epoch {per_inp:.3f} s vs {per_sup:.3f} s (ratio {figures['epoch_ratio']:.3f}); "
        f"worker peak RSS {sup['peak_rss_mb']} MB"
    )
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
