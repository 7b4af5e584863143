"""Decoding a detect head cut per stride (the RKNN export's layout, for INT8): box
DFL logits and class scores per stride, joined back into the head's output on the
CPU. Agreement with the uncut model on a real Ultralytics export is checked in
tests/integration/test_rknn_int8_parity.py."""

from __future__ import annotations

import numpy as np
import pytest
from ahoy_agent.runtime.decode import decode, is_branches, join_branches
from ahoy_agent.runtime.letterbox import letterbox

pytestmark = pytest.mark.unit

SIZE, CLASSES, REG_MAX = 64, 3, 16
STRIDES = (8, 16, 32)
PEAK = 40.0  # a logit that takes all of a softmax's weight (e^-40 beside it)


def empty_branches() -> list[np.ndarray]:
    """Every distance at bin 0 and every score near zero, per stride, finest first."""
    outputs = []
    for stride in STRIDES:
        side = SIZE // stride
        logits = np.zeros((1, 4 * REG_MAX, side, side), np.float32)
        logits[:, 0::REG_MAX] = PEAK
        outputs += [logits, np.full((1, CLASSES, side, side), 1e-4, np.float32)]
    return outputs


def place(
    outputs: list[np.ndarray],
    branch: int,
    cell: tuple[int, int],
    distances: tuple[float, float, float, float],
    cls: int,
    score: float,
) -> None:
    """One box at grid ``cell`` (x, y) of ``branch``: each side's distance in cells
    (whole, or halfway between two bins: two equal peaks), and its class score."""
    logits, scores = outputs[2 * branch], outputs[2 * branch + 1]
    x, y = cell
    for side, distance in enumerate(distances):
        bins = logits[0, side * REG_MAX : (side + 1) * REG_MAX, y, x]
        bins[:] = 0
        low = int(distance)
        bins[low] = PEAK
        if distance != low:
            bins[low + 1] = PEAK
    scores[0, cls, y, x] = score


def test_a_box_is_decoded_from_its_distributions_anchor_and_stride() -> None:
    outputs = empty_branches()
    # stride 16, cell (2, 1): anchor at (2.5, 1.5) cells = (40, 24) px
    place(outputs, 1, (2, 1), (1.0, 0.5, 1.0, 1.5), cls=2, score=0.9)
    joined = join_branches(outputs, (SIZE, SIZE))
    assert joined.shape == (1, 4 + CLASSES, 64 + 16 + 4) and joined.dtype == np.float32
    # anchors run finest stride first, row by row, as Ultralytics concatenates them
    anchor = 8 * 8 + 1 * 4 + 2
    assert joined[0, 4 + 2, anchor] == pytest.approx(0.9)
    # x0 = (2.5 - 1) * 16, y0 = (1.5 - 0.5) * 16, x1 = (2.5 + 1) * 16, y1 = (1.5 + 1.5) * 16
    assert joined[0, :4, anchor].tolist() == pytest.approx([40, 32, 32, 32])  # cx cy w h
    _, fitted = letterbox(np.zeros((SIZE, SIZE, 3), np.uint8), SIZE)
    (boxes,) = decode(joined, [fitted], conf=0.25)
    assert boxes.classes.tolist() == [2] and boxes.scores.tolist() == pytest.approx([0.9])
    assert boxes.xyxy.tolist() == [pytest.approx([24, 16, 56, 48])]


def test_each_stride_scales_its_own_cells() -> None:
    outputs = empty_branches()
    place(outputs, 0, (0, 7), (0.5, 0.5, 0.5, 0.5), cls=0, score=0.8)  # 8 px cells
    place(outputs, 2, (0, 1), (0.5, 0.5, 0.5, 0.5), cls=1, score=0.7)  # 32 px cells
    _, fitted = letterbox(np.zeros((SIZE, SIZE, 3), np.uint8), SIZE)
    (boxes,) = decode(join_branches(outputs, (SIZE, SIZE)), [fitted], conf=0.25)
    found = {int(c): b for c, b in zip(boxes.classes, boxes.xyxy.tolist(), strict=True)}
    assert found[0] == pytest.approx([0, 56, 8, 64])  # (0.5, 7.5) cells ± 0.5, × 8
    assert found[1] == pytest.approx([0, 32, 32, 64])  # (0.5, 1.5) cells ± 0.5, × 32


def test_a_spread_distribution_decodes_to_its_expectation() -> None:
    outputs = empty_branches()
    logits = outputs[0]
    logits[0, 0:REG_MAX, 3, 3] = np.log(np.arange(1, REG_MAX + 1))  # weights ∝ k + 1
    joined = join_branches(outputs, (SIZE, SIZE))
    weights = np.arange(1, REG_MAX + 1) / np.arange(1, REG_MAX + 1).sum()
    left = float((weights * np.arange(REG_MAX)).sum())  # 10.33 cells
    cx = (3.5 - left + 3.5) / 2 * 8
    assert joined[0, 0, 3 * 8 + 3] == pytest.approx(cx, abs=1e-4)


def test_a_head_without_distributions_reads_its_distances_directly() -> None:
    # reg_max 1: four channels, the distances in cells themselves
    logits = np.zeros((1, 4, 2, 2), np.float32)
    logits[0, :, 1, 0] = (0.5, 0.25, 1.0, 0.75)
    scores = np.zeros((1, 1, 2, 2), np.float32)
    joined = join_branches([logits, scores], (64, 64))  # 32 px cells
    # anchor (0.5, 1.5) cells: x0 0, y0 1.25, x1 1.5, y1 2.25 cells
    assert joined[0, :4, 2].tolist() == pytest.approx([24, 56, 48, 32])


@pytest.mark.parametrize(
    ("shapes", "expected"),
    [
        ([(1, 64, 16, 16), (1, 2, 16, 16), (1, 64, 8, 8), (1, 2, 8, 8)], True),
        ([(1, 64, 8, 8), (1, 80, 8, 8)], True),
        ([(1, 6, 336)], False),  # the uncut head
        ([(1, 300, 6)], False),  # NMS inside
        ([(1, 38, 336), (1, 32, 32, 32)], False),  # a segment head and its prototypes
        ([(1, 64, 16, 16), (1, 2, 8, 8)], False),  # box and score grids differ
        ([(1, 62, 16, 16), (1, 2, 16, 16)], False),  # not four distributions
        ([(1, 64, 16, 16)], False),  # a box branch without scores
    ],
)
def test_the_cut_layout_is_recognised_by_its_shapes(
    shapes: list[tuple[int, ...]], expected: bool
) -> None:
    assert is_branches(shapes) is expected


def test_outputs_that_are_not_branches_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\[1, 6, 336\].*not box and score branches"):
        join_branches([np.zeros((1, 6, 336), np.float32)], (128, 128))
