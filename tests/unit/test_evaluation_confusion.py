"""Confusion matrix and per-image errors on hand-made images."""

from __future__ import annotations

import json

import pytest

from appliance.domain.evaluation import (
    ConfusionMatrix,
    Detection,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    InvalidThresholds,
    confusion_matrix,
    image_errors,
)

pytestmark = pytest.mark.unit

CAT, DOG, BG = 0, 1, 2
A = (0.0, 0.0, 10.0, 10.0)
B = (20.0, 20.0, 10.0, 10.0)
FAR = (50.0, 50.0, 10.0, 10.0)


def three_images() -> tuple[list[GroundTruthImage], list[ImageDetections]]:
    """a: a cat found; a dog boxed as a cat; a dog box beside the cat (IoU 0.82,
    but the cat box has IoU 1 and goes first). b: a dog missed, a dog box on
    nothing, a dog box on the dog below the score threshold. c: no objects, a cat
    box."""
    gt = [
        GroundTruthImage("a", (GroundTruthObject(CAT, A), GroundTruthObject(DOG, B))),
        GroundTruthImage("b", (GroundTruthObject(DOG, A),)),
        GroundTruthImage("c"),
    ]
    dets = [
        ImageDetections(
            "a",
            (
                Detection(DOG, (1.0, 0.0, 10.0, 10.0), 0.95),
                Detection(CAT, A, 0.9),
                Detection(CAT, B, 0.8),
            ),
        ),
        ImageDetections("b", (Detection(DOG, FAR, 0.7), Detection(DOG, A, 0.1))),
        ImageDetections("c", (Detection(CAT, (0.0, 0.0, 5.0, 5.0), 0.5),)),
    ]
    return gt, dets


def test_confusion_counts_true_down_predicted_across_with_background_last():
    gt, dets = three_images()
    m = confusion_matrix(gt, dets, num_classes=2)
    assert m.counts == (
        (1, 0, 0),  # cat: found as cat
        (1, 0, 1),  # dog: once boxed as a cat, once missed
        (1, 2, 0),  # background: a cat box and two dog boxes on nothing
    )
    assert (m.conf, m.iou, m.background) == (0.25, 0.45, BG)
    assert m.normalized()[DOG] == (0.5, 0.0, 0.5)


def test_confusion_thresholds_change_the_counts():
    gt, dets = three_images()
    low = confusion_matrix(gt, dets, num_classes=2, conf=0.05)
    assert low.counts[DOG][DOG] == 1 and low.counts[DOG][BG] == 0  # the 0.1 box now counts
    strict = confusion_matrix(gt, dets, num_classes=2, iou=0.85)
    assert strict.counts[CAT][CAT] == 1 and strict.iou == 0.85


def test_confusion_ignores_crowd_regions_and_what_lies_on_them():
    crowd = GroundTruthObject(CAT, (0.0, 0.0, 100.0, 100.0), crowd=True)
    gt = [GroundTruthImage("a", (crowd,))]
    dets = [
        ImageDetections("a", (Detection(CAT, A, 0.9), Detection(DOG, B, 0.9))),
    ]
    m = confusion_matrix(gt, dets, num_classes=2)
    assert m.counts == ((0, 0, 0), (0, 0, 0), (0, 1, 0))  # only the dog box counts


def test_confusion_as_dict_is_plain_json():
    gt, dets = three_images()
    d = json.loads(json.dumps(confusion_matrix(gt, dets, 2, conf=0.3, iou=0.5).as_dict()))
    assert d == {
        "num_classes": 2,
        "conf": 0.3,
        "iou": 0.5,
        "counts": [[1, 0, 0], [1, 0, 1], [1, 2, 0]],
    }


def test_image_errors_worst_first():
    gt, dets = three_images()
    errors = image_errors(gt, dets, conf=0.25, iou=0.45)
    assert [(e.image_id, e.total) for e in errors] == [("a", 2), ("b", 2), ("c", 1)]
    a, b, c = errors
    assert [d.box for d in a.false_positives] == [(1.0, 0.0, 10.0, 10.0)]
    assert a.misses == ()
    [wrong] = a.misclassified
    assert (wrong.truth.class_id, wrong.detection.class_id, wrong.iou) == (DOG, CAT, 1.0)
    assert [d.box for d in b.false_positives] == [FAR]
    assert b.misses == (GroundTruthObject(DOG, A),)
    assert b.misclassified == ()
    assert [d.class_id for d in c.false_positives] == [CAT]


def test_image_errors_pair_same_class_first():
    """Unlike the confusion matrix, a right-class box beats a wrong-class box
    with a higher IoU: the cat is found, the dog box is a false positive."""
    gt = [GroundTruthImage("a", (GroundTruthObject(CAT, A),))]
    dets = [
        ImageDetections("a", (Detection(DOG, A, 0.9), Detection(CAT, (0.0, 0.0, 10.0, 9.0), 0.8)))
    ]
    [e] = image_errors(gt, dets, conf=0.25, iou=0.5)
    assert ([d.class_id for d in e.false_positives], e.misses, e.misclassified) == ([DOG], (), ())
    assert confusion_matrix(gt, dets, 2, iou=0.5).counts == ((0, 1, 0), (0, 0, 0), (1, 0, 0))


def test_image_errors_as_dict_names_classes():
    gt, dets = three_images()
    d = image_errors(gt, dets, conf=0.25, iou=0.45)[0].as_dict(["cat", "dog"])
    assert d["counts"] == {"false_positives": 1, "misses": 0, "misclassified": 1, "total": 2}
    assert d["misclassified"][0]["true_class"] == "dog"
    assert d["misclassified"][0]["predicted_class"] == "cat"
    json.dumps(d)


@pytest.mark.parametrize("iou", [0.0, -0.1, 1.5])
def test_an_iou_outside_0_1_is_refused(iou):
    gt, dets = three_images()
    with pytest.raises(InvalidThresholds, match=f"iou={iou!r} is not valid"):
        confusion_matrix(gt, dets, 2, iou=iou)
    with pytest.raises(InvalidThresholds, match="give an IoU in"):
        image_errors(gt, dets, conf=0.25, iou=iou)


def test_normalized_leaves_empty_rows_at_zero():
    m = ConfusionMatrix(counts=((2, 2, 0), (0, 0, 0), (0, 1, 0)), num_classes=2, conf=0.5, iou=0.5)
    assert m.normalized() == ((0.5, 0.5, 0.0), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
