"""The augmentation job's child process: ``python -m appliance.jobs.augment_images SPEC``.

SPEC is a JSON file: the recipe, and per source image its file, its label document
and the copies to write (index, seed, image path, label path). Images go through
albumentations; their labels go through the same transform as points (see
appliance.domain.augment). Reports with ``@ahoy`` event lines."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from appliance.child_events import emit
from appliance.domain.augment import Recipe, from_points, parse_recipe, to_points
from appliance.domain.labels.document import LabelDocument, parse_document

if TYPE_CHECKING:
    import albumentations as A

FILL = 114  # the grey Ultralytics pads with
JPEG_QUALITY = 95


def pipeline(recipe: Recipe, flips: bool) -> A.Compose:
    import albumentations as A

    g = recipe.get
    steps: list[Any] = []
    if flips:
        steps += [A.HorizontalFlip(p=g("hflip")), A.VerticalFlip(p=g("vflip"))]
    if any(g(n) > 0 for n in ("rotate", "scale", "translate", "shear")):
        steps.append(
            A.Affine(
                scale=(1 - g("scale"), 1 + g("scale")),
                translate_percent=(-g("translate"), g("translate")),
                rotate=(-g("rotate"), g("rotate")),
                shear=(-g("shear"), g("shear")),
                border_mode=cv2.BORDER_CONSTANT,
                fill=FILL,
                p=1.0,
            )
        )
    if any(g(n) > 0 for n in ("brightness", "contrast", "saturation", "hue")):
        steps.append(
            A.ColorJitter(
                brightness=(1 - g("brightness"), 1 + g("brightness")),
                contrast=(1 - g("contrast"), 1 + g("contrast")),
                saturation=(1 - g("saturation"), 1 + g("saturation")),
                hue=(-g("hue"), g("hue")),
                p=1.0,
            )
        )
    steps.append(A.GaussianBlur(blur_limit=(3, 5), p=g("blur")))
    steps.append(A.GaussNoise(std_range=(0.02, 0.06), p=g("noise")))
    return A.Compose(steps, keypoint_params=A.KeypointParams(format="xy", remove_invisible=False))


def encode(image: np.ndarray, suffix: str) -> bytes:
    ext = suffix.lower() if suffix else ".png"
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if ext in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(ext, image, params)
    if not ok:
        raise ValueError(f"cannot write a {ext} image")
    return bytes(buf.tobytes())


def augment_one(
    item: dict[str, Any], recipe: Recipe, with_flips: A.Compose, no_flips: A.Compose
) -> None:
    raw = np.fromfile(item["src"], dtype=np.uint8)
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{item['name']}: not an image this job can read")
    height, width = image.shape[:2]
    doc: LabelDocument = parse_document(json.loads(Path(item["labels"]).read_bytes()))
    points = to_points(doc, width, height)
    # Flipping swaps left and right keypoints of a pose; without a flip map, don't.
    compose = no_flips if any(o.type == "keypoints" for o in doc.objects) else with_flips
    for out in item["out"]:
        compose.set_random_seed(out["seed"])
        # Labels measure from pixel edges, albumentations from pixel centres: shift by
        # half a pixel there and back, or a flip lands one pixel off.
        sent = np.array(points, dtype=np.float64).reshape(-1, 2) - 0.5
        result = compose(image=image, keypoints=sent)
        moved = [(float(x) + 0.5, float(y) + 0.5) for x, y in result["keypoints"][:, :2]]
        h, w = result["image"].shape[:2]
        new_doc = from_points(doc, moved, w, h, recipe.get("min_visibility"))
        Path(out["image"]).write_bytes(encode(result["image"], Path(item["name"]).suffix))
        Path(out["labels"]).write_bytes(new_doc.to_bytes())


def main(spec_path: Path) -> None:
    # albumentations looks for a newer release on import unless told not to
    os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"
    from appliance.training import guard

    guard.install(lambda message: print(f"network use refused: {message}", flush=True))
    import albumentations as A

    spec = json.loads(spec_path.read_text())
    recipe = parse_recipe(spec["recipe"])
    cv2.setNumThreads(int(spec.get("threads", 1)))
    with_flips, no_flips = pipeline(recipe, True), pipeline(recipe, False)
    items = spec["items"]
    total = sum(len(i["out"]) for i in items)
    done = 0
    emit("progress", done=0, total=total)
    for item in items:
        augment_one(item, recipe, with_flips, no_flips)
        done += len(item["out"])
        emit("progress", done=done, total=total)
    emit("result", data={"copies": done, "albumentations": A.__version__})


if __name__ == "__main__":
    main(Path(sys.argv[1]))
