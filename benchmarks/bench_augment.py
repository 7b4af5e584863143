"""Augmentation throughput: the augment job's child process (decode, transform the
image and every label as points, encode, write image and label document) against a
plain albumentations loop doing the same transforms with its own bbox handling and
the same decode/encode (the peer), on the same images.

    python benchmarks/bench_augment.py [--images 48] [--copies 7] [--no-doc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"

from appliance.domain.augment import parse_recipe  # noqa: E402
from appliance.domain.labels.document import LabelDocument, LabelObject  # noqa: E402
from benchmarks.data_engine.report import machine, revision  # noqa: E402
from benchmarks.data_engine.report import write_doc as write_section  # noqa: E402
from tests.integration.yolo_dataset import make_detect_dataset  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:augment -->", "<!-- /bench:augment -->"


def labels_of(txt: Path) -> LabelDocument:
    objects = []
    for line in txt.read_text().splitlines():
        cls, cx, cy, w, h = line.split()
        objects.append(LabelObject("box", int(cls), box=(float(cx), float(cy), float(w), float(h))))
    return LabelDocument(objects=tuple(objects))


def ours(work: Path, images: list[Path], copies: int) -> float:
    items = []
    out = work / "ours"
    out.mkdir()
    for n, image in enumerate(images):
        doc = work / f"{n}.json"
        doc.write_bytes(
            labels_of(
                image.parent.parent.parent / "labels" / image.parent.name / f"{image.stem}.txt"
            ).to_bytes()
        )
        outs = [
            {
                "index": i,
                "seed": n * 100 + i,
                "image": str(out / f"{n}.{i}.jpg"),
                "labels": str(out / f"{n}.{i}.json"),
            }
            for i in range(1, copies + 1)
        ]
        items.append({"name": image.name, "src": str(image), "labels": str(doc), "out": outs})
    spec = work / "spec.json"
    spec.write_text(json.dumps({"recipe": {"copies": copies}, "items": items, "threads": 2}))
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "appliance.jobs.augment_images", str(spec)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0


PEER = """
import os, sys, json, time
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"
import albumentations as A, cv2, numpy as np
images, copies, out = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cv2.setNumThreads(2)
t = A.Compose([A.HorizontalFlip(p=0.5), A.Affine(scale=(0.8, 1.2), translate_percent=(-0.1, 0.1),
    rotate=(-10, 10), border_mode=cv2.BORDER_CONSTANT, fill=114, p=1.0),
    A.ColorJitter(brightness=(0.8, 1.2), contrast=(0.8, 1.2), saturation=(0.7, 1.3),
        hue=(-0.02, 0.02), p=1.0),
    A.GaussianBlur(blur_limit=(3, 5), p=0.1), A.GaussNoise(std_range=(0.02, 0.06), p=0.1)],
    bbox_params=A.BboxParams(format="yolo", label_fields=["cls"], min_visibility=0.3))
for n, (path, label) in enumerate(images):
    image = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    rows = [l.split() for l in open(label).read().splitlines()]
    boxes, cls = [[float(v) for v in r[1:]] for r in rows], [int(r[0]) for r in rows]
    for i in range(1, copies + 1):
        t.set_random_seed(n * 100 + i)
        r = t(image=image, bboxes=boxes, cls=cls)
        ok, buf = cv2.imencode(".jpg", r["image"], [cv2.IMWRITE_JPEG_QUALITY, 95])
        open(f"{out}/{n}.{i}.jpg", "wb").write(buf.tobytes())
        open(f"{out}/{n}.{i}.txt", "w").write(json.dumps([list(b) for b in r["bboxes"]]))
"""


def peer(work: Path, images: list[Path], copies: int) -> float:
    out = work / "peer"
    out.mkdir()
    pairs = [
        (str(p), str(p.parent.parent.parent / "labels" / p.parent.name / f"{p.stem}.txt"))
        for p in images
    ]
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", PEER, json.dumps(pairs), str(copies), str(out)], check=True
    )
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=48)
    p.add_argument("--copies", type=int, default=7)
    p.add_argument("--size", type=int, default=640)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--no-doc", action="store_true")
    args = p.parse_args(argv)
    parse_recipe({"copies": args.copies})
    base = Path(tempfile.mkdtemp(prefix="ahoy-bench-augment-"))
    try:
        make_detect_dataset(base / "data", train=args.images, val=0, size=args.size)
        images = sorted((base / "data" / "images" / "train").glob("*.jpg"))
        ours_s, peer_s = [], []
        for r in range(args.rounds):
            for name, fn, into in (("ours", ours, ours_s), ("peer", peer, peer_s)):
                work = base / f"{name}{r}"
                work.mkdir()
                into.append(fn(work, images, args.copies))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    made = args.images * args.copies
    best_ours, best_peer = min(ours_s), min(peer_s)
    lines = [
        "## Augmentation",
        "",
        f"Command: `python benchmarks/bench_augment.py --images {args.images}"
        f" --copies {args.copies}`  ",
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC  ",
        f"Code: {revision()}  ",
        f"Machine: {machine(ROOT)}",
        "",
        f"{args.images} generated {args.size}×{args.size} JPEGs with 1–3 boxes each,"
        f" {args.copies} copies each ({made} images written), best of {args.rounds},"
        " both in a fresh process:",
        "",
        "| path | seconds | copies / s |",
        "|---|---|---|",
        f"| the augment job's worker (labels as points, label documents written) | {best_ours:.2f}"
        f" | {made / best_ours:.1f} |",
        f"| plain albumentations loop with its own bbox handling (peer) | {best_peer:.2f}"
        f" | {made / best_peer:.1f} |",
        "",
        f"The job's worker runs at **{best_peer / best_ours:.2f}x** the peer's speed"
        " (higher is faster).",
    ]
    print("\n".join(lines))
    if not args.no_doc:
        write_section(DOC, "\n".join([START, *lines, END]), START, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
