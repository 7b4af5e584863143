"""COCO interchange: exact round trips, sensible native exports, every data problem."""

import json
import math

import pytest

from appliance.domain.labels.coco import (
    CocoCategory,
    coco_to_documents,
)
from appliance.domain.labels.coco_model import rle_counts
from tests.unit.coco_sample import JOINTS, SAMPLE, export, sample

pytestmark = pytest.mark.unit


# -- problems ------------------------------------------------------------------------


def ann(i: int) -> str:
    return f"annotations[{i}] (id {SAMPLE['annotations'][i]['id']})"


DELETE = object()
NAN = float("nan")
NOT_FINITE = "not a finite number (NaN or infinity)"

# (path into the sample, value set there (DELETE: key removed), where, problem)
# fmt: off
PROBLEMS = [
    (("images",), {}, "coco", "images is a list, not dict"),
    (("categories",), DELETE, "coco", "missing key 'categories'"),
    (("images", 1), "b.jpg", "images[1]", "an image is a JSON object"),
    (("images", 2, "id"), 7, "images[2] (id 7)", "id 7 is used by another image"),
    (("images", 2, "id"), "2", "images[2] (id '2')", "id '2' is not an integer"),
    (("images", 2, "file_name"), "a.jpg",
     "images[2] (id 2)", "file_name 'a.jpg' is also images[0]'s"),
    (("images", 2, "width"), DELETE, "images[2] (id 2)", "missing key 'width'"),
    (("images", 2, "height"), 0, "images[2] (id 2)", "height 0 is not a positive integer"),
    (("images", 2, "height"), 100.0, "images[2] (id 2)", "height 100.0 is not a positive integer"),
    (("images", 2, "score"), NAN, "images[2] (id 2)", f"a value is {NOT_FINITE}"),
    (("categories", 3), {"id": 3, "name": "truck"},
     "categories[3] (id 3)", "id 3 is used by another category"),
    (("categories", 1, "name"), DELETE, "categories[1] (id 18)", "missing key 'name'"),
    (("categories", 0, "skeleton", 0), [16, 18],
     "categories[0] (id 1)", "skeleton is a list of [a, b] pairs of 1-based keypoint numbers"),
    (("annotations", 1), [], "annotations[1]", "an annotation is a JSON object"),
    (("annotations", 1, "id"), 57, "annotations[1] (id 57)", "id 57 is also annotations[0]'s"),
    (("annotations", 1, "bbox"), DELETE, ann(1), "missing key 'bbox'"),
    (("annotations", 1, "image_id"), 8, ann(1), "image_id 8 is not the id of an image"),
    (("annotations", 1, "category_id"), 2, ann(1), "category_id 2 is not the id of a category"),
    (("annotations", 0, "bbox"), [1, 2, 3], ann(0), "bbox is [x, y, width, height], four numbers"),
    (("annotations", 0, "bbox", 2), NAN, ann(0), f"bbox has a value that is {NOT_FINITE}"),
    (("annotations", 0, "bbox", 3), 0,
     ann(0), "bbox [12.34, 56.78, 100.5, 0] has a width or height that is not positive"),
    (("annotations", 0, "bbox", 0), 600,
     ann(0), "bbox [600, 56.78, 100.5, 50.25] reaches outside the 640x480 image"),
    (("annotations", 0, "bbox", 1), -1,
     ann(0), "bbox [12.34, -1, 100.5, 50.25] reaches outside the 640x480 image"),
    (("annotations", 0, "area"), -1, ann(0), "area -1 is not a number >= 0"),
    (("annotations", 0, "iscrowd"), True, ann(0), "iscrowd True is not 0 or 1"),
    (("annotations", 0, "segmentation"), "poly",
     ann(0), "segmentation is a list of polygons or an RLE object"),
    (("annotations", 1, "segmentation", 1), [1, 2, 3, 4],
     ann(1), "segmentation[1] has 4 numbers; a polygon is 3 or more x, y pairs"),
    (("annotations", 1, "segmentation", 1, 0), NAN,
     ann(1), f"segmentation[1] has a value that is {NOT_FINITE}"),
    (("annotations", 1, "segmentation", 1, 5), 480.5,
     ann(1), "segmentation[1] has a point outside the 640x480 image"),
    (("annotations", 1, "segmentation", 1, 0), "x",
     ann(1), "segmentation[1] is a flat list of numbers [x1, y1, x2, y2, ...]"),
    (("annotations", 2, "segmentation", "size"), [640, 480],
     ann(2), "RLE size [640, 480] is not the image's [height, width] [480, 640]"),
    (("annotations", 2, "segmentation", "counts"), "Xj\\4l1T=00",
     ann(2), "RLE runs cover 145160 pixels, not 480x640"),
    (("annotations", 2, "segmentation", "counts"), "Xj\\4l1T=0n",
     ann(2), "RLE counts is not a valid compressed RLE string"),
    (("annotations", 4, "segmentation", "counts"), [1, -1],
     ann(4), "RLE counts is a list of run lengths or a compressed string"),
    (("annotations", 4, "segmentation", "counts"), [1, 2],
     ann(4), "RLE runs cover 3 pixels, not 241x333"),
    (("annotations", 3, "keypoints", 1), NAN,
     ann(3), f"keypoints has a value that is {NOT_FINITE}"),
    (("annotations", 3, "keypoints"), [1, 2],
     ann(3), "keypoints is a flat list of numbers [x1, y1, v1, x2, y2, v2, ...]"),
    (("annotations", 3, "keypoints", 2), 3,
     ann(3), "keypoint visibility is 0 (not labelled), 1 (hidden) or 2 (visible)"),
    (("annotations", 3, "keypoints", 0), 641, ann(3), "a keypoint lies outside the 640x480 image"),
    (("annotations", 3, "num_keypoints"), 17,
     ann(3), "num_keypoints 17 is not the 14 labelled keypoints"),
    (("annotations", 2, "keypoints"), [0] * 6, ann(2), "has 2 keypoints; category 1 names 17"),
    (("annotations", 0, "score"), NAN, ann(0), f"a value is {NOT_FINITE}"),
]
# fmt: on


def mutate(coco: dict, path: tuple, value) -> None:
    target = coco
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    elif isinstance(target, list) and path[-1] == len(target):
        target.append(value)
    else:
        target[path[-1]] = value


@pytest.mark.parametrize(("path", "value", "where", "problem"), PROBLEMS)
def test_each_problem_is_named_with_where_it_is(path, value, where, problem):
    coco = sample()
    mutate(coco, path, value)
    problems = coco_to_documents(coco).problems
    assert [(p.where, p.problem) for p in problems] == [(where, problem)]
    assert str(problems[0]) == f"{where}: {problem}"


def test_every_problem_is_collected_not_only_the_first():
    coco = sample()
    chosen = [
        row
        for row in PROBLEMS
        if row[2] in ("images[2] (id 2)", ann(0), ann(2), ann(3), ann(4))
        and row[3].startswith(
            ("height 0", "area", "a value", "RLE size", "num_keyp", "RLE runs cover 3")
        )
    ]
    for path, value, _, _ in chosen:
        mutate(coco, path, value)
    problems = coco_to_documents(coco).problems
    assert len(chosen) == 7
    assert sorted((p.where, p.problem) for p in problems) == sorted(r[2:] for r in chosen)


def test_an_image_without_size_is_named_once_and_its_annotations_kept_out():
    coco = sample()
    del coco["images"][1]["width"], coco["images"][1]["height"]
    imported = coco_to_documents(coco)
    assert [str(p) for p in imported.problems] == [
        "images[1] (id 9): missing key 'width'",
        "images[1] (id 9): missing key 'height'",
    ]
    assert "b.jpg" not in imported.documents


@pytest.mark.parametrize("value", [None, [], "coco", 3])
def test_a_file_that_is_not_an_object_is_one_problem(value):
    imported = coco_to_documents(value)
    assert [str(p) for p in imported.problems] == [
        "coco: a COCO file is a JSON object with images, annotations and categories"
    ]
    assert imported.documents == {}


def test_input_is_not_modified_and_output_shares_nothing_with_it():
    coco = sample()
    imported = coco_to_documents(coco)
    assert coco == sample()
    out = export(imported)
    out["info"]["year"] = 1999
    out["categories"][0]["keypoints"].append("tail")
    assert imported.top["info"]["year"] == 2024
    assert imported.categories[0].keypoints == tuple(JOINTS)
    assert CocoCategory(1, "x").as_dict() == {"id": 1, "name": "x"}  # absent keys stay absent


# -- pycocotools reads what we write --------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools' own, under numpy 2
def test_pycocotools_loads_the_export(tmp_path):
    coco_api = pytest.importorskip("pycocotools.coco", reason="pycocotools is not installed")
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(export(coco_to_documents(sample()))))
    api = coco_api.COCO(str(path))
    assert sorted(api.getAnnIds()) == list(range(57, 64))
    assert sorted(api.getAnnIds(imgIds=[9])) == [61, 62]
    assert api.getCatIds(catNms=["dog"]) == [18]
    masks = {i: api.annToMask(api.loadAnns([i])[0]) for i in (58, 59, 60, 61)}
    assert masks[59].shape == (480, 640) and int(masks[59].sum()) == 7100
    assert int(masks[61].sum()) == 500
    assert masks[58].sum() > 0 and masks[60][200, 300] == 1
    assert math.isclose(api.loadAnns([60])[0]["area"], 9876.54321)
    assert api.dataset == export(coco_to_documents(sample()))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_compressed_rle_decodes_as_pycocotools_encodes():
    np = pytest.importorskip("numpy")
    mask_api = pytest.importorskip("pycocotools.mask", reason="pycocotools is not installed")
    rng = np.random.default_rng(7)
    for shape in [(1, 1), (5, 7), (48, 64), (241, 333)]:
        mask = np.asfortranarray(rng.random(shape) < rng.random())
        rle = mask_api.encode(mask.astype(np.uint8))
        runs = rle_counts(rle["counts"].decode())
        assert sum(runs) == shape[0] * shape[1]
        assert sum(runs[1::2]) == int(mask.sum()) == mask_api.area(rle)
        assert rle_counts("Xj\\4l1T=0n") is None
