"""The augmentation child process on real images: labels follow the pixels."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from appliance.domain.labels.document import LabelDocument, LabelObject, parse_document

RED = (220, 30, 30)
OFF = {
    name: 0
    for name in (
        "hflip",
        "rotate",
        "scale",
        "translate",
        "brightness",
        "contrast",
        "saturation",
        "hue",
        "blur",
        "noise",
    )
}


def one_rectangle(path: Path, rng: random.Random) -> LabelDocument:
    """A red rectangle on grey noise, 160 × 120, and its box label."""
    w, h = 160, 120
    noise = bytes(rng.randrange(90, 160) for _ in range(w * h * 3))
    image = Image.frombytes("RGB", (w, h), noise)
    bw, bh = rng.randint(30, 60), rng.randint(25, 50)
    x0, y0 = rng.randint(20, w - bw - 20), rng.randint(20, h - bh - 20)
    ImageDraw.Draw(image).rectangle((x0, y0, x0 + bw - 1, y0 + bh - 1), fill=RED)
    image.save(path)
    box = ((x0 + bw / 2) / w, (y0 + bh / 2) / h, bw / w, bh / h)
    return LabelDocument(objects=(LabelObject("box", 0, box=box),), size=(w, h))


def run_child(tmp: Path, recipe: dict[str, object], copies: int) -> list[tuple[Path, Path]]:
    rng = random.Random(7)
    items, outs = [], []
    for n in range(4):
        src, labels = tmp / f"{n}.png", tmp / f"{n}.json"
        labels.write_bytes(one_rectangle(src, rng).to_bytes())
        out = []
        for i in range(1, copies + 1):
            pair = (tmp / f"{n}.{i}.png", tmp / f"{n}.{i}.json")
            outs.append(pair)
            seed = 100 * n + i
            out.append({"index": i, "seed": seed, "image": str(pair[0]), "labels": str(pair[1])})
        items.append({"name": f"img{n}.png", "src": str(src), "labels": str(labels), "out": out})
    spec = tmp / "spec.json"
    spec.write_text(json.dumps({"recipe": {"copies": copies, **recipe}, "items": items}))
    done = subprocess.run(
        [sys.executable, "-m", "appliance.jobs.augment_images", str(spec)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    events = [json.loads(line[6:]) for line in lines if line.startswith("@ahoy ")]
    assert events[-2] == {"kind": "progress", "done": 4 * copies, "total": 4 * copies}
    return outs


def red_extent(path: Path) -> tuple[float, float, float, float]:
    """cx, cy, w, h (normalised) of the pixels that are clearly red."""
    px = np.asarray(Image.open(path).convert("RGB")).astype(int)
    mask = (px[..., 0] > 170) & (px[..., 1] < 90) & (px[..., 2] < 90)
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    return ((x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h)


def box_of(path: Path) -> tuple[float, float, float, float]:
    doc = parse_document(json.loads(path.read_bytes()))
    assert len(doc.objects) == 1
    box = doc.objects[0].box
    assert box is not None
    return box


def test_a_flip_mirrors_the_pixels_and_the_box(tmp_path: Path) -> None:
    for image, labels in run_child(tmp_path, {**OFF, "hflip": 1.0}, copies=1):
        n = image.name.split(".")[0]
        original = np.asarray(Image.open(tmp_path / f"{n}.png"))
        flipped = np.asarray(Image.open(image))
        assert np.array_equal(flipped, original[:, ::-1])
        cx, cy, w, h = box_of(labels)
        ocx, ocy, ow, oh = box_of(tmp_path / f"{n}.json")
        assert np.allclose((cx, cy, w, h), (1 - ocx, ocy, ow, oh), atol=1e-6)


def test_after_rotation_scale_and_shift_the_box_still_frames_the_object(tmp_path: Path) -> None:
    recipe = {**OFF, "rotate": 8, "scale": 0.2, "translate": 0.1}
    outs = run_child(tmp_path, recipe, copies=3)
    moved = 0
    for image, labels in outs:
        label, seen = box_of(labels), red_extent(image)
        # the labelled box and the red pixels agree to a few pixels (rotation grows
        # the box of a rotated rectangle a little, so allow its corners' extent)
        assert np.allclose(label[:2], seen[:2], atol=0.04), (image.name, label, seen)
        assert np.allclose(label[2:], seen[2:], atol=0.08), (image.name, label, seen)
        ocx, ocy, _, _ = box_of(tmp_path / f"{image.name.split('.')[0]}.json")
        moved += not np.allclose(label[:2], (ocx, ocy), atol=0.01)
    assert moved >= len(outs) - 1, "the transforms do move things"


def test_the_same_seed_makes_the_same_copy(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = run_child(tmp_path / "a", {}, 2), run_child(tmp_path / "b", {}, 2)
    for (ia, la), (ib, lb) in zip(a, b, strict=True):
        assert ia.read_bytes() == ib.read_bytes() and la.read_bytes() == lb.read_bytes()
