"""The one inference path's pure parts: letterbox geometry, decoding, NMS (the
parity arithmetic of the export gate: test_parity.py)."""

from __future__ import annotations

import numpy as np
import pytest
from ahoy_agent.runtime.decode import decode, nms
from ahoy_agent.runtime.letterbox import letterbox

pytestmark = pytest.mark.unit


def test_letterbox_centres_and_maps_boxes_back() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    boxed, fitted = letterbox(image, 64)
    assert boxed.shape == (64, 64, 3) and fitted.scale == pytest.approx(0.32)
    assert (fitted.pad_x, fitted.pad_y) == (0, 16)
    assert boxed[0, 0, 0] == 114 and boxed[32, 32, 0] == 0
    back = fitted.to_image(np.array([[0.0, 16.0, 64.0, 48.0]]))
    assert back[0].tolist() == pytest.approx([0.0, 0.0, 200.0, 100.0])


def head_output(rows: list[tuple[float, float, float, float, float, float]]) -> np.ndarray:
    """One image, 2 classes: (cx, cy, w, h, score0, score1) per anchor → [1, 6, A]."""
    return np.array(rows, np.float32).T[None]


def test_decode_keeps_the_best_box_per_object_and_class() -> None:
    _, fitted = letterbox(np.zeros((64, 64, 3), np.uint8), 64)
    raw = head_output(
        [
            (20, 20, 10, 10, 0.9, 0.1),
            (21, 20, 10, 10, 0.8, 0.1),  # the same object: suppressed
            (21, 20, 10, 10, 0.1, 0.7),  # same place, other class: kept
            (50, 50, 8, 8, 0.0005, 0.0),  # under the score threshold
        ]
    )
    (boxes,) = decode(raw, [fitted])
    assert boxes.classes.tolist() == [0, 1]
    assert boxes.scores.tolist() == pytest.approx([0.9, 0.7])
    assert boxes.xyxy[0].tolist() == pytest.approx([15, 15, 25, 25])


def test_decode_reads_an_output_with_nms_inside() -> None:
    _, fitted = letterbox(np.zeros((64, 64, 3), np.uint8), 64)
    raw = np.array([[[1, 2, 11, 12, 0.9, 1], [0, 0, 0, 0, 0.0, 0]]], np.float32)
    (boxes,) = decode(raw, [fitted])
    assert boxes.classes.tolist() == [1] and boxes.xyxy.tolist() == [[1, 2, 11, 12]]


def test_nms_stops_at_its_limit() -> None:
    xyxy = np.array([[i * 20, 0, i * 20 + 10, 10] for i in range(10)], np.float32)
    kept = nms(xyxy, np.linspace(1, 0.1, 10), np.zeros(10, int), 0.5, limit=3)
    assert kept.tolist() == [0, 1, 2]


def test_a_segment_or_pose_head_is_decoded_on_its_boxes() -> None:
    _, fitted = letterbox(np.zeros((64, 64, 3), np.uint8), 64)
    # 2 classes, then 3 extra channels (mask coefficients / keypoints) that are large
    rows = [(20, 20, 10, 10, 0.9, 0.1, 5.0, 7.0, 9.0), (40, 40, 8, 8, 0.2, 0.6, 8.0, 8.0, 8.0)]
    raw = np.array(rows, np.float32).T[None]
    (boxes,) = decode(raw, [fitted], classes=2)
    assert boxes.classes.tolist() == [0, 1] and boxes.scores.tolist() == pytest.approx([0.9, 0.6])
    with pytest.raises(ValueError, match="no room for 9 classes"):
        decode(raw, [fitted], classes=9)
    # told that the model ran NMS itself, the rows are read as such
    nms = np.array([[[1, 2, 11, 12, 0.9, 1, 0.5, 0.5]]], np.float32)
    (inside,) = decode(nms, [fitted], nms_inside=True)
    assert inside.classes.tolist() == [1] and inside.xyxy.tolist() == [[1, 2, 11, 12]]
