"""Raw detection outputs → boxes in image pixels.

Two output layouts exist: the head's ``[N, 4 + classes, anchors]`` (centre, size,
then one score per class; no NMS: it runs here), and an export with NMS inside,
``[N, max_det, 6]`` (x0, y0, x1, y1, score, class). Both end as :class:`Boxes`
per image, in the original image's pixels. A third, the head cut per stride for
INT8 (the appliance's RKNN export cuts it so), is first joined back
into the first by :func:`join_branches`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ahoy_agent.runtime.letterbox import Fitted

#: what evaluation uses (Ultralytics' validation defaults): keep almost everything
EVAL_CONF = 0.001
EVAL_IOU = 0.7
MAX_DET = 300


@dataclass(frozen=True, slots=True)
class Boxes:
    xyxy: np.ndarray  # (n, 4) float, image pixels
    scores: np.ndarray  # (n,)
    classes: np.ndarray  # (n,) int

    def as_list(self) -> list[dict[str, object]]:
        return [
            {
                "class": int(c),
                "score": round(float(s), 6),
                "box": [round(float(v), 3) for v in xy],  # x0, y0, x1, y1
            }
            for xy, s, c in zip(self.xyxy, self.scores, self.classes, strict=True)
        ]


def decode(
    raw: np.ndarray,
    fitted: list[Fitted],
    *,
    classes: int | None = None,
    nms_inside: bool | None = None,
    conf: float = EVAL_CONF,
    iou: float = EVAL_IOU,
    max_det: int = MAX_DET,
) -> list[Boxes]:
    """One :class:`Boxes` per image of the batch. ``classes``: how many class scores
    follow the box (a segment or pose head appends mask coefficients or keypoints
    after them, which box decoding leaves aside); ``None``: all the rest.
    ``nms_inside``: the model ran NMS itself (``None``: judged from the shape)."""
    if raw.ndim != 3:
        raise ValueError(f"a detection output has 3 dimensions, not shape {raw.shape}")
    if nms_inside is None:
        nms_inside = raw.shape[2] == 6 and raw.shape[1] != 6
    if nms_inside:
        return [_from_nms(raw[i], f, conf) for i, f in enumerate(fitted)]
    if classes is not None:
        if raw.shape[1] < 4 + classes:
            raise ValueError(f"an output of shape {raw.shape} has no room for {classes} classes")
        raw = raw[:, : 4 + classes]
    return [_from_head(raw[i], f, conf, iou, max_det) for i, f in enumerate(fitted)]


def is_branches(shapes: Sequence[Sequence[int | str]]) -> bool:
    """Whether a model's output shapes are a head cut per stride: pairs of
    ``[N, 4 * reg_max, h, w]`` box logits and ``[N, classes, h, w]`` scores."""
    if len(shapes) < 2 or len(shapes) % 2 or any(len(s) != 4 for s in shapes):
        return False
    pairs = zip(shapes[0::2], shapes[1::2], strict=True)
    return all(
        isinstance(b[1], int) and b[1] % 4 == 0 and list(b[2:]) == list(s[2:]) for b, s in pairs
    )


def join_branches(outputs: Sequence[np.ndarray], input_hw: tuple[int, int]) -> np.ndarray:
    """The head's ``[N, 4 + classes, anchors]`` from its per-stride branches, as
    Ultralytics' head computes it: per side of each box a softmax over ``reg_max``
    bins, whose expectation is the distance from the anchor (the cell's centre) in
    cells; centre and size from those, times the stride. Branches come finest
    first, box logits then class scores (already through their sigmoid)."""
    if not is_branches([o.shape for o in outputs]):
        shapes = ", ".join(str(list(o.shape)) for o in outputs)
        raise ValueError(f"outputs of shapes {shapes} are not box and score branches")
    boxes, scores = [], []
    for logits, score in zip(outputs[0::2], outputs[1::2], strict=True):
        n, channels, h, w = logits.shape
        reg_max = channels // 4
        stride = input_hw[0] / h
        bins = logits.astype(np.float64).reshape(n, 4, reg_max, h * w)
        if reg_max == 1:  # no distribution (Ultralytics' DFL is then the identity)
            distances = bins[:, :, 0]
        else:
            weights = np.exp(bins - bins.max(axis=2, keepdims=True))
            weights /= weights.sum(axis=2, keepdims=True)
            distances = (weights * np.arange(reg_max)[:, None]).sum(axis=2)
        left, top, right, bottom = distances.transpose(1, 0, 2)
        ys, xs = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
        x, y = xs.ravel(), ys.ravel()
        x0, y0, x1, y1 = x - left, y - top, x + right, y + bottom
        boxes.append(np.stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], axis=1) * stride)
        scores.append(score.reshape(n, score.shape[1], h * w))
    joined = np.concatenate([np.concatenate(boxes, axis=2), np.concatenate(scores, axis=2)], 1)
    return joined.astype(np.float32)


def _from_head(out: np.ndarray, fitted: Fitted, conf: float, iou: float, max_det: int) -> Boxes:
    preds = out.T  # (anchors, 4 + nc)
    scores_all = preds[:, 4:]
    classes = scores_all.argmax(1)
    scores = scores_all[np.arange(len(preds)), classes]
    keep = scores > conf
    boxes, scores, classes = preds[keep, :4], scores[keep], classes[keep]
    xyxy = np.empty_like(boxes)
    xyxy[:, :2] = boxes[:, :2] - boxes[:, 2:] / 2
    xyxy[:, 2:] = boxes[:, :2] + boxes[:, 2:] / 2
    chosen = nms(xyxy, scores, classes, iou, max_det)
    return Boxes(fitted.to_image(xyxy[chosen]), scores[chosen], classes[chosen].astype(int))


def _from_nms(out: np.ndarray, fitted: Fitted, conf: float) -> Boxes:
    keep = out[:, 4] > conf
    rows = out[keep]
    return Boxes(fitted.to_image(rows[:, :4]), rows[:, 4], rows[:, 5].astype(int))


def nms(
    xyxy: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float, limit: int = MAX_DET
) -> np.ndarray:
    """Indices kept by class-wise greedy NMS, best score first, at most ``limit``
    (boxes of different classes never suppress each other: they are offset apart,
    as torchvision's batched_nms does)."""
    if len(xyxy) == 0:
        return np.zeros(0, dtype=int)
    offset = classes[:, None].astype(np.float64) * (float(xyxy.max()) + 1.0)
    boxes = xyxy.astype(np.float64) + offset
    order = scores.argsort()[::-1]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order.size and len(kept) < limit:
        i = order[0]
        kept.append(int(i))
        rest = order[1:]
        x0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = (x1 - x0).clip(0) * (y1 - y0).clip(0)
        overlap = inter / (areas[i] + areas[rest] - inter + 1e-9)
        order = rest[overlap <= iou]
    return np.array(kept, dtype=int)
