"""A tiny YOLO detect dataset made on the fly: coloured rectangles on noise.

Shared by the training engine tests and ``benchmarks/bench_training.py``; it
downloads nothing and takes well under a second to write.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

CLASSES = ("red", "blue")
_COLOURS = ((220, 30, 30), (30, 60, 220))


def make_detect_dataset(root: Path, *, train: int = 24, val: int = 8, size: int = 128) -> Path:
    """Write ``root/images/{train,val}``, ``root/labels/{train,val}`` and
    ``root/data.yaml`` (absolute path, 2 classes); returns the data.yaml path."""
    rng = random.Random(1234)
    for split, count in (("train", train), ("val", val)):
        images = root / "images" / split
        labels = root / "labels" / split
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            image, rows = _sample(rng, size)
            image.save(images / f"{split}{i:03d}.jpg", quality=92)
            (labels / f"{split}{i:03d}.txt").write_text("".join(rows))
    data = root / "data.yaml"
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES))
    data.write_text(
        f"path: {root.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n"
    )
    return data


def _sample(rng: random.Random, size: int) -> tuple[Image.Image, list[str]]:
    noise = bytes(rng.randrange(60, 190) for _ in range(size * size * 3))
    image = Image.frombytes("RGB", (size, size), noise)
    draw = ImageDraw.Draw(image)
    rows = []
    for _ in range(rng.randint(1, 3)):
        cls = rng.randrange(len(CLASSES))
        w, h = rng.randint(size // 6, size // 2), rng.randint(size // 6, size // 2)
        x0, y0 = rng.randint(0, size - w), rng.randint(0, size - h)
        draw.rectangle((x0, y0, x0 + w - 1, y0 + h - 1), fill=_COLOURS[cls])
        cx, cy = (x0 + w / 2) / size, (y0 + h / 2) / size
        rows.append(f"{cls} {cx:.6f} {cy:.6f} {w / size:.6f} {h / size:.6f}\n")
    return image, rows
