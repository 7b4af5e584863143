"""`evaluate` gives pycocotools' COCOeval numbers on seeded random sets that reach
every corner of its matching: noise, duplicates, false positives, classes without
ground truth or without detections, empty images, more than max_dets boxes,
tiny boxes, crowd regions and tied scores."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, replace

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from appliance.domain.evaluation import (
    Detection,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    evaluate,
)
from tests.unit.coco_reference import coco_input

pytestmark = pytest.mark.unit

# COCO's own arithmetic is reproduced, so only summation order differs; a looser
# tolerance would let a wrongly broken tie (worth ~1e-4 of AP) through.
TOL = 1e-6


@dataclass(frozen=True)
class Recipe:
    images: int = 200
    classes: int = 5
    gt_per_image: float = 4.0
    no_gt_classes: tuple[int, ...] = ()  # never labelled
    no_det_classes: tuple[int, ...] = ()  # never detected
    empty_images: float = 0.1  # share of images with no ground truth
    miss: float = 0.15
    wrong_class: float = 0.05
    duplicates: float = 0.2
    false_positives: float = 2.0  # per image
    crowd: float = 0.0  # share of ground truth marked crowd
    crowd_hits: int = 0  # extra detections inside each crowd region
    crowded_images: int = 0  # images with 150 detections of one class (> max_dets)
    tiny: float = 0.0  # share of boxes 0.3-3 px wide
    score_decimals: int | None = None  # round scores to force ties
    grid: bool = False  # small whole-pixel boxes packed together: equal IoUs, IoU exactly 0.5
    own_area: float = 0.0  # share of objects whose area is not w x h (a mask's area)


def random_set(
    seed: int, r: Recipe
) -> tuple[list[GroundTruthImage], list[ImageDetections], list[str]]:
    rng = np.random.default_rng(seed)
    labelled = [c for c in range(r.classes) if c not in r.no_gt_classes]
    detected = [c for c in range(r.classes) if c not in r.no_det_classes]

    def box(tiny: bool) -> tuple[float, float, float, float]:
        if r.grid:
            return tuple(float(v) for v in rng.integers((0, 0, 2, 2), (12, 12, 9, 9)))  # type: ignore[return-value]
        w, h = rng.uniform(0.3, 3, 2) if tiny else rng.uniform(8, 200, 2)
        return (float(rng.uniform(0, 600)), float(rng.uniform(0, 440)), float(w), float(h))

    def jitter(b: tuple[float, float, float, float], scale: float) -> tuple[float, ...]:
        x, y, w, h = b
        if r.grid:
            dx, dy, dw, dh = rng.integers(-1, 2, 4)
            return (x + dx, y + dy, max(w + dw, 1.0), max(h + dh, 1.0))
        dx, dy, dw, dh = rng.normal(0, scale, 4)
        return (x + dx * w, y + dy * h, max(w * (1 + dw), 0.1), max(h * (1 + dh), 0.1))

    def score() -> float:
        s = float(rng.uniform(0.01, 1))
        return s if r.score_decimals is None else round(s, r.score_decimals)

    gt: list[GroundTruthImage] = []
    dets: list[ImageDetections] = []
    for i in range(r.images):
        n = 0 if rng.random() < r.empty_images else int(rng.poisson(r.gt_per_image))
        objects = [
            GroundTruthObject(
                int(rng.choice(labelled)), box(rng.random() < r.tiny), bool(rng.random() < r.crowd)
            )
            for _ in range(n)
        ]
        objects = [
            replace(o, area=o.box[2] * o.box[3] * float(rng.uniform(0.3, 1.0)))
            if rng.random() < r.own_area
            else o
            for o in objects
        ]
        found: list[Detection] = []
        for o in objects:
            if o.crowd and o.class_id in detected:
                found += [
                    Detection(o.class_id, jitter(o.box, 0.3), score())  # type: ignore[arg-type]
                    for _ in range(r.crowd_hits)
                ]
            if rng.random() < r.miss:
                continue
            cls = int(rng.choice(detected)) if rng.random() < r.wrong_class else o.class_id
            if cls not in detected:
                continue
            copies = 2 if rng.random() < r.duplicates else 1
            for _ in range(copies):
                found.append(Detection(cls, jitter(o.box, 0.08), score()))  # type: ignore[arg-type]
        for _ in range(int(rng.poisson(r.false_positives))):
            found.append(Detection(int(rng.choice(detected)), box(False), score()))
        if i < r.crowded_images:
            cls = detected[i % len(detected)]
            found += [Detection(cls, box(False), score()) for _ in range(150)]
        order = rng.permutation(len(found))
        gt.append(GroundTruthImage(f"img-{i:05d}", tuple(objects)))
        dets.append(ImageDetections(f"img-{i:05d}", tuple(found[j] for j in order)))
    return gt, dets, [f"class {c}" for c in range(r.classes)]


@dataclass(frozen=True)
class CocoNumbers:
    map50_95: float
    map50: float
    map75: float
    precision: np.ndarray  # (T, R, K): area "all", maxDets 100
    stats: list[float | None]  # COCOeval.stats, -1 as None


def coco_eval(
    gt: list[GroundTruthImage], dets: list[ImageDetections], classes: list[str]
) -> CocoNumbers:
    """pycocotools on the same data, built in memory (see ``coco_reference``)."""
    dataset, results = coco_input(gt, dets, classes)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = dataset
        coco.createIndex()
        e = COCOeval(coco, coco.loadRes(results), "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return CocoNumbers(
        float(e.stats[0]),
        float(e.stats[1]),
        float(e.stats[2]),
        e.eval["precision"][..., 0, 2],
        [None if v == -1 else float(v) for v in e.stats],
    )


def class_ap(precision: np.ndarray) -> float | None:
    """COCO's per-class AP: the mean over its entries that are not -1."""
    present = precision[precision > -1]
    return float(present.mean()) if present.size else None


RECIPES = {
    "noisy": Recipe(),
    "duplicates and false positives": Recipe(duplicates=0.6, false_positives=6.0),
    "classes without gt or detections": Recipe(
        classes=7, no_gt_classes=(2, 5), no_det_classes=(3,), empty_images=0.3
    ),
    "more than max_dets": Recipe(images=60, crowded_images=12),
    "tiny boxes": Recipe(tiny=0.5, false_positives=1.0),
    "crowd regions": Recipe(crowd=0.2, crowd_hits=3),
    "whole-pixel grid": Recipe(grid=True, classes=1, gt_per_image=10, duplicates=0.5, crowd=0.1),
    "tied scores": Recipe(score_decimals=1, duplicates=0.4, crowd=0.1, crowd_hits=2),
    "areas of their own": Recipe(own_area=0.5, crowd=0.1, crowd_hits=2),
    "everything": Recipe(
        images=150,
        own_area=0.3,
        classes=8,
        no_gt_classes=(7,),
        no_det_classes=(6,),
        crowd=0.1,
        crowd_hits=2,
        crowded_images=5,
        tiny=0.2,
        score_decimals=2,
    ),
}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_agrees_with_cocoeval(name, seed):
    gt, dets, classes = random_set(seed, RECIPES[name])
    ours = evaluate(gt, dets, classes)
    theirs = coco_eval(gt, dets, classes)

    assert ours.map50_95 == pytest.approx(theirs.map50_95, abs=TOL)
    assert ours.map50 == pytest.approx(theirs.map50, abs=TOL)
    assert ours.map75 == pytest.approx(theirs.map75, abs=TOL)
    assert ours.coco.as_list() == pytest.approx(theirs.stats, abs=TOL)
    for k, result in enumerate(ours.per_class):
        expected = class_ap(theirs.precision[:, :, k])
        if expected is None:
            assert (result.ap50_95, result.ap50, result.pr_curve) == (None, None, None)
            continue
        assert result.ap50_95 == pytest.approx(expected, abs=TOL)
        assert result.ap50 == pytest.approx(class_ap(theirs.precision[0, :, k]), abs=TOL)
        assert result.pr_curve is not None
        assert result.pr_curve.precision == pytest.approx(theirs.precision[0, :, k], abs=TOL)


def test_the_sets_reach_the_corners_they_are_named_for():
    """Guards the generator: each recipe produces what the cases above rely on."""
    gt, dets, classes = random_set(0, RECIPES["everything"])
    ours = evaluate(gt, dets, classes)
    assert ours.per_class[7].ap50_95 is None  # no ground truth
    assert ours.per_class[6].num_detections == 0 and ours.per_class[6].ap50_95 == 0.0
    assert any(not img.objects for img in gt)
    assert any(o.crowd for img in gt for o in img.objects)
    assert max(len(d.detections) for d in dets) > 100
    scores = [x.score for d in dets for x in d.detections]
    assert len(set(scores)) < len(scores)  # ties


def test_a_class_with_only_crowd_regions_has_no_ap():
    crowd = GroundTruthObject(0, (0, 0, 100, 100), crowd=True)
    gt = [GroundTruthImage("a", (crowd, GroundTruthObject(1, (0, 0, 10, 10))))]
    dets = [ImageDetections("a", (Detection(0, (10, 10, 20, 20), 0.9),))]
    ours = evaluate(gt, dets, ["crowd only", "plain"])
    theirs = coco_eval(gt, dets, ["crowd only", "plain"])
    assert ours.per_class[0].ap50_95 is None
    assert class_ap(theirs.precision[:, :, 0]) is None
    assert ours.map50_95 == theirs.map50_95 == 0.0


def test_on_equal_iou_the_later_box_is_taken_as_cocoeval_does():
    """The first detection meets both boxes at IoU 0.5 exactly and takes the later
    one, which leaves the earlier for the second detection: two hits, AP50 1."""
    upper, lower = (0.0, 0.0, 10.0, 5.0), (0.0, 5.0, 10.0, 5.0)
    gt = [GroundTruthImage("a", (GroundTruthObject(0, upper), GroundTruthObject(0, lower)))]
    dets = [
        ImageDetections(
            "a",
            (Detection(0, (0.0, 0.0, 10.0, 10.0), 0.9), Detection(0, (0.0, 0.0, 10.0, 6.0), 0.8)),
        )
    ]
    ours = evaluate(gt, dets, ["thing"])
    theirs = coco_eval(gt, dets, ["thing"])
    assert ours.map50 == pytest.approx(theirs.map50, abs=TOL)
    assert ours.map50 == pytest.approx(1.0)
