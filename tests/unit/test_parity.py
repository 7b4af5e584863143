"""The parity gate's arithmetic and words: one sign (export − source, negative =
loss) for the overall and per-class figures and in every line printed, counts on
every line, and no decision on too little data."""

from __future__ import annotations

import pytest

from appliance.domain import parity
from appliance.domain.parity import ParityRules

pytestmark = pytest.mark.unit

RULES = ParityRules(tolerance=1.0, min_images=50, min_objects=100)


def summary(map50_95, per_class, images=120, objects=400):
    return {"map50_95": map50_95, "per_class": per_class, "images": images, "objects": objects}


SOURCE = summary(
    0.50,
    [
        {"class_id": 0, "name": "a", "ap50_95": 0.6, "num_gt": 300},
        {"class_id": 1, "name": "b", "ap50_95": 0.4, "num_gt": 100},
        {"class_id": 2, "name": "c", "ap50_95": None, "num_gt": 0},
    ],
)
EXPORT = summary(
    0.488,
    [
        {"class_id": 0, "name": "a", "ap50_95": 0.6},
        {"class_id": 1, "name": "b", "ap50_95": 0.376},
    ],
)


def test_a_loss_is_negative_overall_per_class_and_in_the_line():
    p = parity.measure(SOURCE, EXPORT, RULES, "shapes@1 test")
    assert p["delta_points"] == pytest.approx(-1.2) and "drop_points" not in p
    assert [c["delta_points"] for c in p["per_class"]] == pytest.approx([0.0, -2.4])
    assert p["verdict"] == "failed" and p["passed"] is False and p["measurable"]
    line = parity.describe(p)
    assert line.startswith("parity failed: -1.20 pts (export − source, mAP50-95 0.500 → 0.488)")
    assert "on shapes@1 test, 120 images, 400 objects; tolerance 1 pts" in line
    # a gain is positive, and passes
    gained = parity.measure(SOURCE, summary(0.52, []), RULES, "d@1 test")
    assert gained["delta_points"] == pytest.approx(2.0) and gained["passed"]
    assert parity.describe(gained).startswith("parity passed: +2.00 pts")
    # within the tolerance
    assert parity.measure(SOURCE, EXPORT, ParityRules(1.5, 50, 100), "x")["passed"]
    # "INT8 export returns no detections": everything lost, refused
    nothing = parity.measure(SOURCE, summary(None, []), RULES, "x")
    assert nothing["delta_points"] == pytest.approx(-50.0) and nothing["verdict"] == "failed"


@pytest.mark.parametrize(
    ("images", "objects", "verdict"),
    [(49, 400, "not measurable"), (120, 99, "not measurable"), (50, 100, "failed")],
)
def test_too_little_data_decides_nothing(images, objects, verdict):
    p = parity.measure(SOURCE, summary(0.488, [], images, objects), RULES, "shapes@1 test")
    assert p["verdict"] == verdict and (p["passed"] is None) == (verdict == "not measurable")
    line = parity.describe(p)
    assert f"{images} images, {objects} objects" in line
    if verdict == "not measurable":
        assert line.startswith("parity not measurable: -1.20 pts")
        assert line.endswith("deciding needs at least 50 images and 100 objects")


def test_a_record_is_judged_under_today_s_rules_and_old_records_read_in_one_sign():
    p = parity.measure(SOURCE, EXPORT, RULES, "x")
    assert parity.verdict(p, ParityRules(2.0, 50, 100)) == "passed"
    assert parity.verdict(p, ParityRules(2.0, 500, 100)) == "not measurable"
    old = {"drop_points": 3.2, "passed": False, "where": "ds@1 test"}  # before counts
    assert parity.delta_of(old) == -3.2
    assert parity.verdict(old, RULES) == "not measurable"
    assert parity.verdict({**old, "images": 60, "objects": 200}, RULES) == "failed"
    assert "image and object counts not recorded" in parity.describe(old, RULES)
