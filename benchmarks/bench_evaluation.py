"""Detection evaluation benchmark (`make bench`): `evaluate` against pycocotools.

A seeded synthetic set (5,000 images, ~7 objects and ~20 detections each, 10
classes) is scored by `appliance.domain.evaluation.evaluate` and by pycocotools
as it is normally run (`COCO()` + `loadRes` + `COCOeval` evaluate, accumulate,
summarize), best of 3 each; the numbers (all twelve `COCOeval.stats` and each
class's AP) must agree to 1e-3. Each side starts from its own input form: our
dataclasses, COCO's dicts (built before the clock starts, afresh each round,
since `loadRes` writes into them). Both do the same work: every area range and
the AR at 1, 10 and 100 detections.

    .venv/bin/python benchmarks/bench_evaluation.py             # figures + docs section
    .venv/bin/python benchmarks/bench_evaluation.py --no-doc --images 1000
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from appliance.domain.evaluation import (  # noqa: E402
    Detection,
    Evaluation,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    evaluate,
)
from benchmarks.data_engine.report import machine, revision  # noqa: E402
from benchmarks.data_engine.report import write_doc as write_section  # noqa: E402
from tests.unit.coco_reference import coco_input  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:evaluation:start -->", "<!-- bench:evaluation:end -->"
TOLERANCE = 1e-3


def synthetic(
    images: int, classes: int, seed: int
) -> tuple[list[GroundTruthImage], list[ImageDetections]]:
    """~7 objects per image; each found with probability 0.9 (a third of those
    twice), boxes jittered by ~8 % of their size, 5 % with the wrong class; ~12
    false positives per image, scored lower on average."""
    rng = np.random.default_rng(seed)
    gt: list[GroundTruthImage] = []
    dets: list[ImageDetections] = []
    for i in range(images):
        n = int(rng.poisson(7))
        cls = rng.integers(0, classes, n)
        wh = rng.uniform(10, 250, (n, 2))
        xy = rng.uniform(0, 1, (n, 2)) * (np.array([1280, 720]) - wh)
        boxes = np.hstack([xy, wh])
        found = rng.random(n) < 0.9
        copies = np.where(found, 1 + (rng.random(n) < 0.3), 0)
        src = np.repeat(np.arange(n), copies)
        jitter = rng.normal(0, 0.08, (len(src), 4)) * np.tile(boxes[src, 2:], 2)
        d_boxes = boxes[src] + jitter
        d_boxes[:, 2:] = np.maximum(d_boxes[:, 2:], 1.0)
        d_cls = np.where(rng.random(len(src)) < 0.05, rng.integers(0, classes, len(src)), cls[src])
        d_score = rng.beta(5, 2, len(src))
        n_fp = int(rng.poisson(12))
        fp_wh = rng.uniform(10, 250, (n_fp, 2))
        fp_boxes = np.hstack(
            [rng.uniform(0, 1, (n_fp, 2)) * (np.array([1280, 720]) - fp_wh), fp_wh]
        )
        all_boxes = np.vstack([d_boxes, fp_boxes]).tolist()
        all_cls = np.concatenate([d_cls, rng.integers(0, classes, n_fp)]).tolist()
        all_score = np.concatenate([d_score, rng.beta(2, 5, n_fp)]).tolist()
        image_id = f"frame-{i:06d}"
        gt.append(
            GroundTruthImage(
                image_id,
                tuple(
                    GroundTruthObject(c, tuple(b))  # type: ignore[arg-type]
                    for c, b in zip(cls.tolist(), boxes.tolist(), strict=True)
                ),
            )
        )
        dets.append(
            ImageDetections(
                image_id,
                tuple(
                    Detection(c, tuple(b), s)  # type: ignore[arg-type]
                    for c, b, s in zip(all_cls, all_boxes, all_score, strict=True)
                ),
            )
        )
    return gt, dets


def pycocotools(dataset: dict[str, Any], results: list[dict[str, Any]]) -> COCOeval:
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = dataset
        coco.createIndex()
        e = COCOeval(coco, coco.loadRes(results), "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e


def best_of(rounds: int, label: str, run: Callable[[], float]) -> list[float]:
    times = []
    for r in range(rounds):
        times.append(run())
        print(f"  {label:34} round {r + 1}: {times[-1]:7.3f} s", flush=True)
    return times


def check(ours: Evaluation, theirs: COCOeval) -> float:
    """Largest difference over the twelve COCO figures and per-class AP50-95."""
    precision = theirs.eval["precision"][:, :, :, 0, -1]
    diffs = [
        abs((-1 if v is None else v) - float(t))
        for v, t in zip(ours.coco.as_list(), theirs.stats, strict=True)
    ]
    for k, c in enumerate(ours.per_class):
        p = precision[:, :, k]
        diffs.append(abs((c.ap50_95 or 0) - float(p[p > -1].mean())))
    worst = max(diffs)
    assert worst <= TOLERANCE, f"evaluate and COCOeval differ by {worst:.2e}"
    return worst


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=5000)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = p.parse_args(argv)
    classes = [f"class-{k}" for k in range(args.classes)]
    gt, dets = synthetic(args.images, args.classes, args.seed)
    n_gt = sum(len(img.objects) for img in gt)
    n_det = sum(len(d.detections) for d in dets)
    print(f"{args.images:,} images, {n_gt:,} objects, {n_det:,} detections, {args.classes} classes")

    result: dict[str, Any] = {}

    def ours() -> float:
        t0 = time.perf_counter()
        result["ours"] = evaluate(gt, dets, classes)
        return time.perf_counter() - t0

    def theirs() -> float:
        dataset, results = coco_input(gt, dets, classes)
        t0 = time.perf_counter()
        result["coco"] = pycocotools(dataset, results)
        return time.perf_counter() - t0

    ours_s = best_of(args.rounds, "evaluate", ours)
    coco_s = best_of(args.rounds, "pycocotools", theirs)
    worst = check(result["ours"], result["coco"])
    e: Evaluation = result["ours"]
    best, coco = min(ours_s), min(coco_s)
    lines = [
        "## Detection evaluation",
        "",
        f"Command: `python benchmarks/bench_evaluation.py --images {args.images}"
        f" --rounds {args.rounds}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Code: {revision()}  ",
        f"Machine: {machine(ROOT)}",
        "",
        f"Seeded synthetic set: {args.images:,} images, {n_gt:,} objects, {n_det:,} detections,"
        f" {args.classes} classes (mAP50-95 {e.map50_95:.4f}, mAP50 {e.map50:.4f});"
        f" best of {args.rounds} rounds:",
        "",
        "| path | seconds (each round) | best |",
        "|---|---|---|",
        f"| `evaluate` (from dataclasses: per class, the twelve COCO figures) | {_each(ours_s)}"
        f" | {best:.3f} |",
        f"| pycocotools 2.0.11: `COCO()` + `loadRes` + `COCOeval` evaluate, accumulate,"
        f" summarize | {_each(coco_s)} | {coco:.3f} |",
        "",
        f"`evaluate` is **{coco / best:.1f}x faster** than pycocotools on the same work"
        f" (target: 2x); largest difference in the twelve COCO figures or a class's"
        f" AP50-95: {worst:.1e} (allowed {TOLERANCE:g}).",
    ]
    print()
    print("\n".join(lines))
    if not args.no_doc:
        write_section(DOC, "\n".join([START, *lines, END]), START, END)
    return 0


def _each(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
