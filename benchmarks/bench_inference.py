"""Inference latency and throughput of each export format available on this box,
on the same images, through the appliance's one inference path
(appliance.inference), against Ultralytics' own predict on the same weights.

yolo11n is built from its YAML (nothing downloaded), trained for one short epoch on
generated shapes so its outputs are not constant, exported to ONNX (dynamic) and,
where `.venv-rknn` exists, to RKNN (FP16, static), whose x86 simulator is run for
correctness only (its speed says nothing about an RK3588's NPU).

    python benchmarks/bench_inference.py [--images 64] [--imgsz 320] [--no-doc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from appliance.training.offline import apply_offline_env  # noqa: E402
from benchmarks.data_engine.report import machine, revision  # noqa: E402
from benchmarks.data_engine.report import write_doc as write_section  # noqa: E402
from tests.integration.yolo_dataset import make_detect_dataset  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:inference -->", "<!-- /bench:inference -->"


def timed(label: str, run, images: list[str], rounds: int) -> float:  # type: ignore[no-untyped-def]
    run(images[:2])  # warm up (graph building, allocator)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        run(images)
        best = min(best, time.perf_counter() - t0)
    ms = 1000 * best / len(images)
    print(f"{label:52} {ms:8.2f} ms/image  {len(images) / best:7.1f} images/s")
    return ms


def ours(path: str, fmt: str, imgsz: int, batch: int):  # type: ignore[no-untyped-def]
    from ahoy_agent.runtime.decode import decode
    from ahoy_agent.runtime.letterbox import letterbox, read_image, to_tensor

    from appliance.inference import backends

    backend = backends.load(path, fmt, threads=2)

    def run(images: list[str]) -> None:
        for i in range(0, len(images), batch):
            fitted = [letterbox(read_image(p), imgsz) for p in images[i : i + batch]]
            raw = backend.run(to_tensor([b for b, _ in fitted]))
            decode(raw, [f for _, f in fitted])

    return run


def ultralytics(path: str, imgsz: int):  # type: ignore[no-untyped-def]
    from ultralytics import YOLO

    model = YOLO(path, task="detect")

    def run(images: list[str]) -> None:
        for p in images:
            model.predict(p, imgsz=imgsz, conf=0.001, iou=0.7, verbose=False, device="cpu")

    return run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=64)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ahoy-bench-inference-"))
    try:
        apply_offline_env(work / "config")
        import torch
        from ultralytics import YOLO

        torch.set_num_threads(2)
        data = make_detect_dataset(work / "data", train=16, val=args.images, size=args.imgsz)
        model = YOLO("yolo11n.yaml")
        model.train(
            data=str(data),
            epochs=1,
            imgsz=args.imgsz,
            batch=8,
            workers=0,
            device="cpu",
            project=str(work / "runs"),
            name="t",
            plots=False,
            verbose=False,
            val=False,
        )
        pt = str(work / "runs" / "t" / "weights" / "last.pt")
        onnx = YOLO(pt).export(format="onnx", imgsz=args.imgsz, dynamic=True, simplify=True)
        images = sorted(str(x) for x in (work / "data" / "images" / "val").glob("*.jpg"))
        print(f"{len(images)} images at {args.imgsz} px, yolo11n, 2 threads\n")
        rows = [
            (
                "PyTorch .pt, Ultralytics `predict` (peer)",
                timed("pt: ultralytics predict", ultralytics(pt, args.imgsz), images, args.rounds),
            ),
            (
                "PyTorch .pt, appliance path, batch 1",
                timed("pt: appliance, batch 1", ours(pt, "pt", args.imgsz, 1), images, args.rounds),
            ),
            (
                "ONNX, Ultralytics `predict` (peer)",
                timed(
                    "onnx: ultralytics predict", ultralytics(onnx, args.imgsz), images, args.rounds
                ),
            ),
            (
                "ONNX Runtime, appliance path, batch 1",
                timed(
                    "onnx: appliance, batch 1",
                    ours(onnx, "onnx", args.imgsz, 1),
                    images,
                    args.rounds,
                ),
            ),
            (
                "ONNX Runtime, appliance path, batch 8",
                timed(
                    "onnx: appliance, batch 8",
                    ours(onnx, "onnx", args.imgsz, 8),
                    images,
                    args.rounds,
                ),
            ),
        ]
        rknn_line = _rknn(work, pt, images, args.imgsz)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peer_pt, ours_pt, peer_onnx, ours_onnx = (r[1] for r in rows[:4])
    lines = [
        "## Inference by format",
        "",
        f"Command: `python benchmarks/bench_inference.py --images {args.images}"
        f" --imgsz {args.imgsz}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Code: {revision()}  ",
        f"Machine: {machine(ROOT)}",
        "",
        f"yolo11n (from its YAML, one epoch on generated shapes), {args.images} images at"
        f" {args.imgsz} px, 2 threads, best of {args.rounds}; each path letterboxes, runs"
        " and decodes with NMS (score 0.001, IoU 0.7):",
        "",
        "| path | ms / image | images / s |",
        "|---|---|---|",
        *[f"| {name} | {ms:.2f} | {1000 / ms:.1f} |" for name, ms in rows],
        "",
        f"The appliance's path against Ultralytics' predict on the same weights: .pt"
        f" **{peer_pt / ours_pt:.2f}x**, ONNX **{peer_onnx / ours_onnx:.2f}x** (higher is"
        " faster). " + rknn_line,
    ]
    print("\n" + "\n".join(lines))
    if not args.no_doc:
        write_section(DOC, "\n".join([START, *lines, END]), START, END)
    return 0


def _rknn(work: Path, pt: str, images: list[str], imgsz: int) -> str:
    from ultralytics import YOLO

    from appliance.export import rknn

    if not rknn.status()["available"]:
        return f"RKNN: not measured ({rknn.status()['reason']})."
    static = YOLO(pt).export(format="onnx", imgsz=imgsz, dynamic=False, simplify=True)
    sim = work / "sim"
    made = rknn.convert(
        Path(static), work / "m.rknn", simulate=[Path(p) for p in images[:8]], simulate_out=sim
    )
    from ahoy_agent.runtime.decode import join_branches
    from ahoy_agent.runtime.letterbox import letterbox, read_image, to_tensor

    from appliance.inference.backends import load

    onnx = load(static, "onnx", 2)
    worst = 0.0
    for i, path in enumerate(images[:8]):
        boxed, _ = letterbox(read_image(path), imgsz)
        reference = onnx.run(to_tensor([boxed]))
        outputs = [np.load(f) for f in made["simulated"][i]["outputs"]]  # cut per stride
        simulated = join_branches(outputs, (imgsz, imgsz))
        worst = max(worst, float(np.abs(simulated[:, :4] - reference[:, :4]).max()))
    return (
        f"RKNN (FP16, rk3588) converts in {made.get('seconds', 0):.1f} s; its x86 simulator"
        f" (correctness only) matches ONNX Runtime to {worst:.2f} px on 8 images' boxes."
    )


if __name__ == "__main__":
    sys.exit(main())
