"""Our evaluation inputs as pycocotools' COCO dicts (shared by the agreement tests
and the evaluation benchmark): ids start at 1 (COCOeval takes 0 for "unmatched"),
images numbered in list order."""

from __future__ import annotations

from typing import Any

from appliance.domain.evaluation import GroundTruthImage, ImageDetections


def coco_input(
    gt: list[GroundTruthImage], dets: list[ImageDetections], classes: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(dataset, results)``: the ground truth as a COCO dataset, the detections
    as a ``loadRes`` list."""
    number = {img.image_id: k for k, img in enumerate(gt, start=1)}
    objects = ((number[img.image_id], o) for img in gt for o in img.objects)
    dataset = {
        "images": [{"id": k, "width": 1280, "height": 720} for k in number.values()],
        "annotations": [
            {
                "id": k,
                "image_id": image,
                "category_id": o.class_id + 1,
                "bbox": list(o.box),
                "area": o.box[2] * o.box[3] if o.area is None else o.area,
                "iscrowd": int(o.crowd),
            }
            for k, (image, o) in enumerate(objects, start=1)
        ],
        "categories": [{"id": k + 1, "name": name} for k, name in enumerate(classes)],
    }
    results = [
        {
            "image_id": number[d.image_id],
            "category_id": x.class_id + 1,
            "bbox": list(x.box),
            "score": x.score,
        }
        for d in dets
        for x in d.detections
    ]
    return dataset, results
