"""Average precision on cases small enough to work out by hand."""

from __future__ import annotations

import json

import pytest

from appliance.domain.evaluation import (
    COCO_IOU_THRESHOLDS,
    ClassOutOfRange,
    Detection,
    DuplicateImages,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    InvalidThresholds,
    UnknownImages,
    evaluate,
)

pytestmark = pytest.mark.unit

# COCO's precision is tp / (tp + fp + machine epsilon), which `evaluate` keeps:
# a lone hit scores 1 - 2e-16, hence approx wherever a count can be 1.

SQUARE = (0.0, 0.0, 10.0, 10.0)
FAR = (100.0, 100.0, 10.0, 10.0)
NEAR = (0.0, 0.0, 10.0, 6.0)  # IoU with SQUARE: 60 / 100 = 0.6 exactly


def one_image(objects, detections, image_id="a"):
    return [GroundTruthImage(image_id, tuple(objects))], [
        ImageDetections(image_id, tuple(detections))
    ]


def test_perfect_detections_score_one_everywhere():
    gt = [
        GroundTruthImage(
            f"img{i}", (GroundTruthObject(i % 2, (i, i, 20, 30)), GroundTruthObject(1, FAR))
        )
        for i in range(4)
    ]
    dets = [
        ImageDetections(img.image_id, tuple(Detection(o.class_id, o.box, 0.9) for o in img.objects))
        for img in gt
    ]
    e = evaluate(gt, dets, ["a", "b"])
    assert (e.map50, e.map75, e.map50_95) == (1.0, 1.0, 1.0)
    for c in e.per_class:
        assert (c.ap50, c.ap75, c.ap50_95) == (1.0, 1.0, 1.0)
        assert (c.precision, c.recall, c.f1, c.confidence) == (1.0, 1.0, 1.0, 0.9)
        assert c.pr_curve is not None and set(c.pr_curve.precision) == {1.0}
    assert [c.num_gt for c in e.per_class] == [2, 6]


def test_a_false_positive_ranked_above_a_hit_halves_precision():
    """Ranked FP, TP: precision 0 then 1/2 at recall 1, so every recall point
    reads 1/2 after interpolation; AP 0.5 at every threshold."""
    gt, dets = one_image(
        [GroundTruthObject(0, SQUARE)], [Detection(0, FAR, 0.9), Detection(0, SQUARE, 0.8)]
    )
    c = evaluate(gt, dets, ["thing"]).per_class[0]
    assert (c.ap50, c.ap75, c.ap50_95) == pytest.approx((0.5, 0.5, 0.5))
    assert (c.precision, c.recall, c.f1, c.confidence) == pytest.approx((0.5, 1.0, 2 / 3, 0.8))


def test_hit_miss_hit_on_two_objects():
    """TP, FP, TP over 2 objects: precision 1 up to recall 0.5 (51 grid points),
    then 2/3 (50 points): AP = (51 + 50 * 2/3) / 101."""
    other = (30.0, 30.0, 10.0, 10.0)
    gt, dets = one_image(
        [GroundTruthObject(0, SQUARE), GroundTruthObject(0, other)],
        [Detection(0, SQUARE, 0.9), Detection(0, FAR, 0.8), Detection(0, other, 0.7)],
    )
    c = evaluate(gt, dets, ["thing"]).per_class[0]
    assert c.ap50 == pytest.approx((51 + 50 * 2 / 3) / 101)
    # F1: 2/3 after the first box, 0.8 after all three
    assert (c.precision, c.recall, c.f1, c.confidence) == pytest.approx((2 / 3, 1.0, 0.8, 0.7))


def test_an_iou_of_exactly_0_6_counts_up_to_the_0_6_threshold():
    gt, dets = one_image([GroundTruthObject(0, SQUARE)], [Detection(0, NEAR, 0.9)])
    c = evaluate(gt, dets, ["thing"]).per_class[0]
    assert (c.ap50, c.ap75, c.ap50_95) == pytest.approx(
        (1.0, 0.0, 0.3)
    )  # 0.50, 0.55, 0.60 of ten thresholds


def test_max_dets_keeps_the_best_scores_per_image_and_class():
    gt, dets = one_image(
        [GroundTruthObject(0, SQUARE)],
        [Detection(0, FAR, 0.9), Detection(0, FAR, 0.8), Detection(0, SQUARE, 0.7)],
    )
    assert evaluate(gt, dets, ["thing"], max_dets=2).map50 == 0.0
    assert evaluate(gt, dets, ["thing"], max_dets=3).map50 == pytest.approx(1 / 3)


def test_classes_without_ground_truth_are_left_out_of_the_mean():
    gt, dets = one_image(
        [GroundTruthObject(0, SQUARE), GroundTruthObject(2, FAR)],
        [Detection(0, SQUARE, 0.9), Detection(1, FAR, 0.9)],
    )
    e = evaluate(gt, dets, ["found", "not labelled", "not found"])
    assert [c.ap50 for c in e.per_class] == [pytest.approx(1.0), None, 0.0]
    assert e.per_class[1].num_detections == 1 and e.per_class[1].pr_curve is None
    assert e.per_class[2].confidence is None
    assert e.map50 == pytest.approx(0.5)  # (1 + 0) / 2: the unlabelled class does not count


def test_no_ground_truth_at_all_has_no_mean():
    gt, dets = one_image([], [Detection(0, SQUARE, 0.9)])
    e = evaluate(gt, dets, ["thing"])
    assert (e.map50, e.map75, e.map50_95) == (None, None, None)


def test_a_detection_on_a_crowd_region_is_neither_right_nor_wrong():
    crowd = (50.0, 50.0, 100.0, 100.0)
    gt, dets = one_image(
        [GroundTruthObject(0, SQUARE), GroundTruthObject(0, crowd, crowd=True)],
        # inside the crowd region: its IoU there is 100/100, over its own area
        [Detection(0, (60.0, 60.0, 10.0, 10.0), 0.95), Detection(0, SQUARE, 0.9)],
    )
    c = evaluate(gt, dets, ["thing"]).per_class[0]
    assert c.num_gt == 1
    assert c.ap50_95 == pytest.approx(1.0)


def test_chosen_thresholds_set_the_mean_and_ap50_ap75_stay():
    gt, dets = one_image([GroundTruthObject(0, SQUARE)], [Detection(0, NEAR, 0.9)])
    e = evaluate(gt, dets, ["thing"], iou_thresholds=(0.6, 0.5))
    assert e.iou_thresholds == (0.5, 0.6)
    assert (e.map50_95, e.map50, e.map75) == pytest.approx((1.0, 1.0, 0.0))


def test_as_dict_is_plain_json():
    gt, dets = one_image([GroundTruthObject(0, SQUARE)], [Detection(0, SQUARE, 0.9)])
    d = json.loads(json.dumps(evaluate(gt, dets, ["thing", "other"]).as_dict()))
    assert d["map50_95"] == pytest.approx(1.0)
    assert d["iou_thresholds"] == list(COCO_IOU_THRESHOLDS)
    assert d["per_class"][1]["ap50"] is None
    curve = d["per_class"][0]["pr_curve"]
    assert len(curve["recall"]) == len(curve["precision"]) == len(curve["scores"]) == 101


@pytest.mark.parametrize(
    ("gt", "dets", "kwargs", "error", "message"),
    [
        (
            [GroundTruthImage("a"), GroundTruthImage("a")],
            [],
            {},
            DuplicateImages,
            "the ground truth list names 1 image(s) more than once: 'a'",
        ),
        (
            [GroundTruthImage("a")],
            [ImageDetections("b", (Detection(0, SQUARE, 0.5),))],
            {},
            UnknownImages,
            "detections name 1 image(s) without ground truth: 'b'",
        ),
        (
            [GroundTruthImage("a", (GroundTruthObject(3, SQUARE),))],
            [],
            {},
            ClassOutOfRange,
            "class id(s) [3] are outside 0..1",
        ),
        ([], [], {"iou_thresholds": ()}, InvalidThresholds, "iou_thresholds=[] is not valid"),
        ([], [], {"iou_thresholds": (1.5,)}, InvalidThresholds, "iou_thresholds=[1.5]"),
        ([], [], {"max_dets": 0}, InvalidThresholds, "max_dets=0 is not valid"),
    ],
)
def test_bad_input_is_refused_with_what_to_fix(gt, dets, kwargs, error, message):
    with pytest.raises(error) as caught:
        evaluate(gt, dets, ["a", "b"], **kwargs)
    assert message in str(caught.value)
    assert caught.value.hint


def test_nothing_detected_scores_zero_and_nothing_at_all_scores_none():
    gt, _ = one_image([GroundTruthObject(0, SQUARE)], [])
    e = evaluate(gt, [], ["thing"])
    assert (e.map50_95, e.per_class[0].confidence, e.per_class[0].num_detections) == (0.0, None, 0)
    assert evaluate([], [], ["thing"]).map50_95 is None
