"""On cocoapi's own fixture (100 COCO val2014 images with crowd regions and
multi-polygon objects, and cocoapi's fake detections): the twelve ``COCOeval.stats``
come out as pycocotools computes them and as cocoapi published them, both from
the annotations directly and through the appliance's path (COCO import → label
documents as stored → ``measure``: what the evaluate job scores)."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from appliance.domain.evaluation import (
    Detection,
    GroundTruthImage,
    GroundTruthObject,
    ImageDetections,
    evaluate,
)
from appliance.domain.labels.coco import coco_to_documents
from appliance.domain.labels.document import parse_document
from appliance.services import measure

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cocoapi"
TOL = 1e-9


@pytest.fixture(scope="module")
def coco() -> dict[str, Any]:
    return json.loads((FIXTURES / "instances_val2014_100.json").read_text())


@pytest.fixture(scope="module")
def results() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "instances_val2014_fakebbox100_results.json").read_text())


@pytest.fixture(scope="module")
def pycocotools_stats(coco: dict[str, Any], results: list[dict[str, Any]]) -> list[float]:
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = json.loads(json.dumps(coco))
        gt.createIndex()
        e = COCOeval(gt, gt.loadRes(json.loads(json.dumps(results))), "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return [float(v) for v in e.stats]


def published() -> list[float]:
    """The bbox figures in cocoapi's ``val2014_fake_eval_res.txt`` (3 decimals)."""
    text = (FIXTURES / "val2014_fake_eval_res.txt").read_text()
    bbox = text.split("type=bbox")[1].split("type=keypoints")[0]
    return [float(v) for v in re.findall(r"\] = (-?\d\.\d+)", bbox)]


def test_the_fixture_has_what_the_cases_rely_on(coco):
    anns = coco["annotations"]
    assert sum(a["iscrowd"] for a in anns) == 9
    assert sum(isinstance(a["segmentation"], list) and len(a["segmentation"]) > 1 for a in anns)
    assert any(abs(a["area"] - a["bbox"][2] * a["bbox"][3]) > 1 for a in anns)


def test_the_twelve_figures_are_pycocotools_and_cocoapi_s_own(coco, results, pycocotools_stats):
    """From the annotations as they are (bbox, area, iscrowd), images in id order."""
    classes = {c["id"]: k for k, c in enumerate(sorted(coco["categories"], key=lambda c: c["id"]))}
    objects: dict[int, list[GroundTruthObject]] = {i["id"]: [] for i in coco["images"]}
    for a in coco["annotations"]:
        objects[a["image_id"]].append(
            GroundTruthObject(
                classes[a["category_id"]], tuple(a["bbox"]), a["iscrowd"] == 1, a["area"]
            )
        )
    found: dict[int, list[Detection]] = {i: [] for i in objects}
    for r in results:
        found[r["image_id"]].append(
            Detection(classes[r["category_id"]], tuple(r["bbox"]), r["score"])
        )
    gt = [GroundTruthImage(str(i), tuple(objects[i])) for i in sorted(objects)]
    dets = [ImageDetections(str(i), tuple(found[i])) for i in sorted(found)]
    ours = evaluate(gt, dets, [str(c) for c in classes])

    assert ours.coco.as_list() == pytest.approx(pycocotools_stats, abs=TOL)
    assert [round(v, 3) for v in ours.coco.as_list()] == published()
    assert ours.coco.ap == ours.map50_95 and ours.coco.ap50 == ours.map50


def test_a_coco_import_is_scored_as_pycocotools_scores_it(coco, results, pycocotools_stats):
    """Crowd regions stay crowd regions, the rings of one annotation are one object,
    and the annotation's own area sorts it by size. (Before: each ring a box of
    its own and every crowd region a miss, AP 0.4264 against pycocotools' 0.5046.)"""
    imported = coco_to_documents(coco)
    assert not imported.problems
    # as the evaluate job reads them: stored as canonical JSON, in filename order
    docs = {
        name: parse_document(json.loads(doc.to_bytes()))
        for name, doc in sorted(imported.documents.items())
    }
    sizes = {i["file_name"]: (i["width"], i["height"]) for i in coco["images"]}
    names = {i["id"]: i["file_name"] for i in coco["images"]}
    predictions: dict[str, list[dict[str, Any]]] = {name: [] for name in docs}
    for r in results:  # the predict worker's form: x0, y0, x1, y1
        x, y, w, h = r["bbox"]
        cls = imported.class_map[r["category_id"]]
        predictions[names[r["image_id"]]].append(
            {"class": cls, "score": r["score"], "box": [x, y, x + w, y + h]}
        )
    gt = measure.ground_truth(docs, sizes)
    assert sum(o.crowd for img in gt for o in img.objects) == 9
    assert sum(len(img.objects) for img in gt) == len(coco["annotations"])

    report = measure.report(
        gt, measure.detections(predictions), imported.names(), conf=0.25, iou=0.45
    )

    stats = report.summary["coco"]
    assert list(stats.values()) == pytest.approx(pycocotools_stats, abs=1e-6)
    assert report.summary["map50_95"] == pytest.approx(pycocotools_stats[0], abs=1e-6)
    counted = len(coco["annotations"]) - 9
    assert report.summary["objects"] == counted == report.full["num_objects"]
    assert report.full["coco"] == stats
