"""Detection evaluation: COCO average precision, confusion matrix, per-image
errors and their SVG charts. Pure: numbers in, numbers (or SVG text) out."""

from appliance.domain.evaluation.average_precision import evaluate
from appliance.domain.evaluation.coco_stats import LABELS as COCO_STATS_LABELS
from appliance.domain.evaluation.coco_stats import CocoStats
from appliance.domain.evaluation.confusion import ConfusionMatrix, confusion_matrix
from appliance.domain.evaluation.image_errors import ImageErrors, Misclassified, image_errors
from appliance.domain.evaluation.results import ClassResult, Evaluation, PRCurve
from appliance.domain.evaluation.svg import confusion_svg, pr_curves_svg
from appliance.domain.evaluation.types import (
    COCO_IOU_THRESHOLDS,
    RECALL_GRID,
    Box,
    ClassOutOfRange,
    Detection,
    DuplicateImages,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    InvalidThresholds,
    UnknownImages,
)

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "COCO_STATS_LABELS",
    "RECALL_GRID",
    "Box",
    "ClassOutOfRange",
    "ClassResult",
    "CocoStats",
    "ConfusionMatrix",
    "Detection",
    "DuplicateImages",
    "Evaluation",
    "GroundTruthImage",
    "GroundTruthObject",
    "ImageDetections",
    "ImageErrors",
    "InvalidThresholds",
    "Misclassified",
    "PRCurve",
    "UnknownImages",
    "confusion_matrix",
    "confusion_svg",
    "evaluate",
    "image_errors",
    "pr_curves_svg",
]
