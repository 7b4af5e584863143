"""The COCO sample and helpers the COCO label tests share."""

from __future__ import annotations

import copy

from appliance.domain.canonical import canonical_json
from appliance.domain.labels.coco import (
    documents_to_coco,
)

JOINTS = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip
SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
# pycocotools' compressed RLE of a 120x60 block with a 10x10 hole at (300, 200), 480x640
RLE = (
    "Xj\\4l1T=000000000000000000^NVCn0j<ROVCn0j<ROVCn0j<ROVCn0j<ROVCn0j<ROVCn0j<ROVCn0j<RO"
    "VCn0j<ROVCn0j<ROVCn0j<d0" + "0" * 198 + "hmV3"
)
KEYPOINTS = [
    310, 120, 2, 315, 115, 2, 305, 115, 1, 0, 0, 0, 298.5, 118.25, 2, 330, 150, 2,
    290, 150, 2, 340, 180, 2, 280, 181, 1, 345, 210, 2, 275, 209, 2, 325, 220, 2,
    295, 220, 2, 327, 260, 2, 293, 261, 2, 0, 0, 0, 0, 0, 0,
]  # fmt: skip


def sample() -> dict:
    return copy.deepcopy(SAMPLE)


# fmt: off
SAMPLE = {
    "info": {"description": "hand-written sample", "year": 2024},
    "licenses": [{"id": 3, "name": "CC BY 2.0", "url": "https://example.org/by/2.0"}],
    "images": [
        {"id": 7, "file_name": "a.jpg", "width": 640, "height": 480, "license": 3,
         "date_captured": "2013-11-14 16:28:13", "coco_url": "http://x/a.jpg"},
        {"id": 9, "file_name": "b.jpg", "width": 333, "height": 241},
        {"id": 2, "file_name": "empty.jpg", "width": 100, "height": 100},
    ],
    "annotations": [
        {"id": 57, "image_id": 7, "category_id": 3, "bbox": [12.34, 56.78, 100.5, 50.25],
         "area": 5050.125, "iscrowd": 0, "segmentation": []},
        {"id": 58, "image_id": 7, "category_id": 18, "bbox": [100.0, 300.0, 80.5, 60.0],
         "area": 2412.5, "iscrowd": 0,
         "segmentation": [[100.0, 300.0, 180.5, 300.0, 180.5, 340.0, 100.0, 340.0],
                          [150.1, 345.7, 170.3, 360.0, 140.9, 359.9]]},
        {"id": 59, "image_id": 7, "category_id": 1, "bbox": [300, 200, 120, 60],
         "area": 7100, "iscrowd": 1, "segmentation": {"size": [480, 640], "counts": RLE},
         "keypoints": [0] * 51, "num_keypoints": 0},
        {"id": 60, "image_id": 7, "category_id": 1, "bbox": [270.5, 100.25, 80.0, 170.0],
         "area": 9876.54321, "iscrowd": 0, "num_keypoints": 14, "keypoints": KEYPOINTS,
         "segmentation": [[275.0, 110.0, 345.0, 110.0, 345.0, 265.0, 275.0, 265.0]],
         "attributes": {"occluded": False}, "score": 0.875},
        {"id": 61, "image_id": 9, "category_id": 3, "bbox": [0, 0, 333, 241],
         "area": 80253, "iscrowd": 0,
         "segmentation": {"size": [241, 333], "counts": [1000, 500, 78753]}},
        {"id": 62, "image_id": 9, "category_id": 1, "bbox": [10.1, 20.2, 30.3, 40.4],
         "keypoints": [11.1, 22.2, 2] + [0, 0, 0] * 16},  # no area, iscrowd, segmentation
        {"id": 63, "image_id": 7, "category_id": 18, "bbox": [0.1, 0.2, 7.3, 1.9],
         "area": 13.87, "iscrowd": 0, "segmentation": [], "ignore": 1},
    ],
    "categories": [
        {"id": 1, "name": "person", "supercategory": "person", "keypoints": JOINTS,
         "skeleton": SKELETON},
        {"id": 18, "name": "dog", "supercategory": "animal", "color": "#ff0000"},
        {"id": 3, "name": "car", "supercategory": "vehicle"},
    ],
    "type": "instances",
}
# fmt: on


def normalized(coco: dict) -> dict:
    """Images and annotations in id order: export keeps per-image order only."""
    out = dict(coco)
    out["images"] = sorted(coco["images"], key=lambda i: i["id"])
    out["annotations"] = sorted(coco["annotations"], key=lambda a: a["id"])
    return out


def export(imported) -> dict:
    return documents_to_coco(imported.documents, imported.categories, top=imported.top)


def assert_same(a, b) -> None:
    """Equal, and every number of the same type (10 and 10.0 compare equal)."""
    assert canonical_json(normalized(a)) == canonical_json(normalized(b))
