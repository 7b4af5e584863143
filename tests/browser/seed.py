"""The data the browser tests look at, made through the SDK as a user would: a YOLO
folder of small generated images, committed, relabelled, committed again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from appliance.sdk import Client, SplitConfig
from appliance.sdk.yolo import import_yolo

WS = "default"
DATASET = "pets"
RELABELLED = "img01.png"
SPLIT = SplitConfig((("train", 0.5), ("val", 0.25), ("test", 0.25)), "browser")

#: name → YOLO label text in v1; img04 has no label file (an unlabelled image) and
#: img03 repeats a box (a label-quality warning).
V1_LABELS = {
    "img00.png": "0 0.30 0.40 0.30 0.40\n",
    "img01.png": "1 0.30 0.40 0.30 0.40\n1 0.70 0.70 0.20 0.20\n",
    "img02.png": "0 0.50 0.50 0.40 0.30\n1 0.20 0.25 0.15 0.20\n",
    "img03.png": "0 0.50 0.50 0.20 0.20\n0 0.50 0.50 0.20 0.20\n",
}
IMAGES = [*V1_LABELS, "img04.png"]
#: v2: img01's first box moves and turns into a cat; its second box is reclassed.
V2_RELABEL = "0 0.38 0.40 0.30 0.40\n0 0.70 0.70 0.20 0.20\n"


@dataclass(frozen=True)
class Seeded:
    ws: str
    dataset: str
    relabelled: str


def _image(path: Path, i: int) -> None:
    im = Image.new("RGB", (160, 120), (30 + 40 * i, 90, 160))
    draw = ImageDraw.Draw(im)
    draw.ellipse([30 + 8 * i, 25, 80 + 8 * i, 75], fill=(240, 200, 60))
    draw.rectangle([100, 70, 140, 110], fill=(60, 200, 120))
    im.save(path)


def _yolo_folder(root: Path) -> Path:
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nnames:\n  0: cat\n  1: dog\n")
    for i, name in enumerate(IMAGES):
        _image(root / "images" / "train" / name, i)
        if name in V1_LABELS:
            (root / "labels" / "train" / name.replace(".png", ".txt")).write_text(V1_LABELS[name])
    return root


def seed(client: Client, tmp: Path) -> Seeded:
    root = _yolo_folder(tmp / "yolo")
    client.create_dataset(WS, DATASET, "generated shapes, two classes", split=SPLIT)
    import_yolo(client, WS, DATASET, root)
    client.commit(WS, DATASET, "first cut")
    (root / "labels" / "train" / RELABELLED.replace(".png", ".txt")).write_text(V2_RELABEL)
    import_yolo(client, WS, DATASET, root)
    client.commit(WS, DATASET, "relabel img01: both are cats")
    return Seeded(WS, DATASET, RELABELLED)
