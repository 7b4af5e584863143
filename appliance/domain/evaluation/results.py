"""What an evaluation returns: COCO average precision per class and overall, the
operating point that maximises F1, and the precision-recall curve."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.domain.evaluation.coco_stats import CocoStats


@dataclass(frozen=True, slots=True)
class PRCurve:
    """COCO's interpolated precision at IoU 0.5 on its 101-point recall grid.
    ``scores`` is the detection score at which each recall is first reached
    (0 where it never is)."""

    recall: tuple[float, ...]
    precision: tuple[float, ...]
    scores: tuple[float, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "recall": list(self.recall),
            "precision": list(self.precision),
            "scores": list(self.scores),
        }


@dataclass(frozen=True, slots=True)
class ClassResult:
    """One class. The AP fields and the operating point are ``None`` for a class
    with no ground truth (COCO's -1): nothing to find, so nothing to score."""

    class_id: int
    name: str
    num_gt: int  # objects that count: crowd regions are not among them
    num_detections: int  # detections evaluated: at most max_dets per image
    ap50: float | None
    ap75: float | None
    ap50_95: float | None  # mean over the evaluation's iou_thresholds
    precision: float | None  # at IoU 0.5 and the score threshold that maximises F1
    recall: float | None
    f1: float | None
    confidence: float | None  # that score threshold; None when nothing was detected
    pr_curve: PRCurve | None

    def as_dict(self) -> dict[str, object]:
        return {
            "class_id": self.class_id,
            "name": self.name,
            "num_gt": self.num_gt,
            "num_detections": self.num_detections,
            "ap50": self.ap50,
            "ap75": self.ap75,
            "ap50_95": self.ap50_95,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "confidence": self.confidence,
            "pr_curve": None if self.pr_curve is None else self.pr_curve.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The means are over the classes that have ground truth; ``None`` when none has."""

    classes: tuple[str, ...]
    iou_thresholds: tuple[float, ...]
    max_dets: int
    num_images: int
    per_class: tuple[ClassResult, ...]
    map50: float | None
    map75: float | None
    map50_95: float | None
    coco: CocoStats  # COCOeval's twelve summary figures

    @property
    def num_objects(self) -> int:
        """Objects that count (crowd regions do not), over all classes."""
        return sum(c.num_gt for c in self.per_class)

    def as_dict(self) -> dict[str, object]:
        return {
            "classes": list(self.classes),
            "iou_thresholds": list(self.iou_thresholds),
            "max_dets": self.max_dets,
            "num_images": self.num_images,
            "num_objects": self.num_objects,
            "map50": self.map50,
            "map75": self.map75,
            "map50_95": self.map50_95,
            "coco": self.coco.as_dict(),
            "per_class": [c.as_dict() for c in self.per_class],
        }


def mean_of(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
