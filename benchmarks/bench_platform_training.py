"""Platform benchmark (`make bench`): what a training *job* costs over calling
Ultralytics directly, and how fast the governor admits.

1. The same generated dataset, model (yolo11n from its YAML), epochs, image size,
   batch and seed: ``YOLO(yaml).train(...)`` in this process, versus
   ``client.train(...)`` through a real `ahoy serve` (submit → admission → the
   worker lays the frozen version out, trains in its own process group, streams
   every epoch, stores the artifacts, registers the model). Wall time from call to
   result for each; the ratio is the platform's overhead. Target: < 5 %.
2. Governor admission: ``decide()`` on a box with 20 running jobs (the pure
   policy), and submit → ``running`` of a small job through the API (the
   scheduler's pass, the catalog writes, the hop to the worker).

    python benchmarks/bench_platform_training.py [--epochs 10] [--imgsz 128]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from appliance.domain.governor import GIB, HostReading, ResourceRequest, Running, decide  # noqa: E402
from appliance.sdk import Client  # noqa: E402
from appliance.training.offline import apply_offline_env  # noqa: E402
from benchmarks.data_engine.common import BIN  # noqa: E402
from benchmarks.data_engine.report import machine, revision  # noqa: E402
from benchmarks.data_engine.report import write_doc as write_section  # noqa: E402
from benchmarks.data_engine.served import served  # noqa: E402
from tests.integration.yolo_dataset import make_detect_dataset  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:training:start -->", "<!-- bench:training:end -->"


def direct(data_yaml: Path, hyper: dict[str, Any], out: Path, config: Path) -> float:
    apply_offline_env(config)
    from ultralytics import YOLO

    began = time.monotonic()
    YOLO("yolo11n.yaml").train(
        data=str(data_yaml),
        project=str(out),
        name="direct",
        exist_ok=True,
        verbose=False,
        plots=True,
        **hyper,
    )
    return time.monotonic() - began


def through_api(client: Client, hyper: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    began = time.monotonic()
    run = client.train("shapes", "yolo11n-detect", **hyper)
    job = run.wait(timeout=3600)
    took = time.monotonic() - began
    if job["state"] != "succeeded":
        raise SystemExit(f"the training job failed: {job.get('error')}")
    return took, job


def admission_latency(client: Client, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.monotonic()
        job = client.submit_job("box-benchmark", {"seconds": 0.5, "cores": 1})
        while client.get_job(None, job["id"])["state"] == "queued":
            time.sleep(0.005)
        times.append(time.monotonic() - began)
        client.wait_job(None, job["id"], timeout=60)
    return times


def decide_micro(n: int = 20_000) -> float:
    host = HostReading(64, 512 * GIB, 500 * GIB, 4000 * GIB)
    req = ResourceRequest(2, 4 * GIB)
    running = [Running(str(i), req) for i in range(20)]
    began = time.perf_counter()
    for _ in range(n):
        decide(req, host, running, 3)
    return (time.perf_counter() - began) / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--imgsz", type=int, default=128)
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = ap.parse_args()
    hyper = {
        "epochs": args.epochs,
        "imgsz": args.imgsz,
        "batch": 8,
        "workers": 0,
        "seed": 0,
        "deterministic": True,
        "device": "cpu",
    }
    with tempfile.TemporaryDirectory(prefix="ahoy-bench-train-") as tmp:
        root = Path(tmp)
        data_yaml = make_detect_dataset(root / "yolo", train=args.images, val=args.images // 4)
        with served(root / "appliance", store="seaweedfs") as app:
            client = Client(app.url, app.token, workspace="default")
            env = app.env(root / "cli")
            for cmd in (
                ["dataset", "create", "shapes", "--split", "train=0.8,val=0.2,test=0"],
                ["dataset", "import-yolo", str(root / "yolo"), "-d", "shapes"],
                ["dataset", "commit", "shapes", "-m", "bench"],
            ):
                subprocess.run([str(BIN / "ahoy"), *cmd], env=env, check=True, capture_output=True)
            api_s, job = through_api(client, hyper)
            latency = admission_latency(client, 5)
        direct_s = direct(data_yaml, hyper, root / "direct", root / "ultralytics")
    micro = decide_micro()
    ratio = api_s / direct_s
    p50 = statistics.median(latency)
    print(f"training {args.epochs} epochs, yolo11n, {args.imgsz} px, {args.images} images:")
    print(f"  direct YOLO.train        {direct_s:7.2f} s")
    print(f"  client.train (API job)   {api_s:7.2f} s   ratio {ratio:.3f} (target < 1.05)")
    print(f"governor: decide() {micro * 1e6:.1f} µs; submit → running p50 {p50 * 1000:.0f} ms")
    if not args.no_doc:
        write_doc(args, direct_s, api_s, ratio, micro, latency, job)
    return 0


def write_doc(
    args: argparse.Namespace,
    direct_s: float,
    api_s: float,
    ratio: float,
    micro: float,
    latency: list[float],
    job: dict[str, Any],
) -> None:
    lines = [
        START,
        "## Training jobs and the governor",
        "",
        f"`python benchmarks/bench_platform_training.py --epochs {args.epochs} --imgsz"
        f" {args.imgsz} --images {args.images}` on {machine(ROOT)}, {dt.date.today()},"
        f" revision {revision()}.",
        "",
        "| path | wall s |",
        "|---|---|",
        f"| `YOLO('yolo11n.yaml').train(...)` in-process | {direct_s:.2f} |",
        f"| `client.train(...)` through `ahoy serve` (job) | {api_s:.2f} |",
        f"| **ratio** (target < 1.05) | **{ratio:.3f}** |",
        "",
        f"The job's own training took {job['result']['seconds']:.2f} s of that; the rest is"
        " admission, laying the frozen version out, the engine's process start and imports,"
        " storing the artifacts and registering the model.",
        "",
        f"Governor: `decide()` with 20 running jobs: {micro * 1e6:.1f} µs. Submit → running"
        f" through the API (scheduler pass + hop to the worker), 5 jobs: p50"
        f" {statistics.median(latency) * 1000:.0f} ms, max {max(latency) * 1000:.0f} ms.",
        END,
    ]
    write_section(DOC, "\n".join(lines), START, END)


if __name__ == "__main__":
    sys.exit(main())
