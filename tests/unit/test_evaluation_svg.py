"""The charts are well-formed, self-contained SVG that say what they show."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from appliance.domain.evaluation import (
    ConfusionMatrix,
    Detection,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    confusion_matrix,
    confusion_svg,
    evaluate,
    pr_curves_svg,
)

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"
NAMES = ["<cat & co>", 'dog "big"', "bird"]


def sample() -> tuple[list[GroundTruthImage], list[ImageDetections]]:
    gt = [
        GroundTruthImage(
            f"img{i}",
            (GroundTruthObject(0, (0, 0, 10, 10)), GroundTruthObject(1, (30, 30, 10, 10))),
        )
        for i in range(3)
    ]
    dets = [
        ImageDetections(
            img.image_id,
            (Detection(0, (0, 0, 10, 10), 0.9), Detection(0, (30, 30, 10, 10), 0.6 + i / 10)),
        )
        for i, img in enumerate(gt)
    ]
    return gt, dets


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def assert_self_contained(svg: str) -> None:
    for needle in ("<script", "href", "url(", "@import", "@font-face"):
        assert needle not in svg
    assert svg.count("http://") == 1  # the SVG namespace, nothing to fetch


def test_pr_curves_parse_and_name_every_class_with_ground_truth():
    gt, dets = sample()
    svg = pr_curves_svg(evaluate(gt, dets, NAMES))
    shown = texts(svg)
    assert_self_contained(svg)
    assert any(t.startswith("<cat & co> ") for t in shown)
    assert any(t.startswith('dog "big" ') for t in shown)
    assert not any(t.startswith("bird") for t in shown)  # no ground truth, no curve
    assert any("IoU 0.50" in t for t in shown)
    assert {"0.0", "0.2", "1.0", "Recall", "Precision"} <= set(shown)
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{SVG}polyline"))) == 3  # two classes and their mean


def test_pr_curves_for_chosen_classes():
    gt, dets = sample()
    svg = pr_curves_svg(evaluate(gt, dets, NAMES), classes=[1])
    shown = texts(svg)
    assert not any(t.startswith("<cat") for t in shown)
    assert any(t.startswith("shown classes") for t in shown)


def test_confusion_svg_names_classes_and_thresholds():
    gt, dets = sample()
    m = confusion_matrix(gt, dets, num_classes=3, conf=0.3, iou=0.55)
    svg = confusion_svg(m, NAMES)
    shown = texts(svg)
    assert_self_contained(svg)
    assert "Confusion matrix (conf ≥ 0.3, IoU ≥ 0.55)" in shown
    assert {*NAMES, "background", "True", "Predicted"} <= set(shown)
    root = ET.fromstring(svg)
    assert len([r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]) == 16


def test_normalised_confusion_svg_shows_shares():
    m = ConfusionMatrix(
        counts=((3, 1, 0), (0, 0, 2), (1, 0, 0)), num_classes=2, conf=0.25, iou=0.45
    )
    shown = texts(confusion_svg(m, ["a", "b"], normalize=True))
    assert "0.75" in shown and "0.25" in shown and "1.00" in shown
    assert any("share of each true class" in t for t in shown)
