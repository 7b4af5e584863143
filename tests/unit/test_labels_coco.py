"""COCO interchange: exact round trips, sensible native exports, every data problem."""

import json
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from appliance.domain.labels.coco import (
    categories_from_names,
    coco_to_documents,
    documents_to_coco,
)
from appliance.domain.labels.document import (
    LabelDocument,
    LabelError,
    LabelObject,
    parse_document,
)
from tests.unit.coco_sample import JOINTS, assert_same, export, sample

pytestmark = pytest.mark.unit


# -- round trips ---------------------------------------------------------------------


def test_sample_imports_without_problems():
    imported = coco_to_documents(sample())
    assert imported.problems == []
    assert list(imported.documents) == ["a.jpg", "b.jpg", "empty.jpg"]
    assert imported.class_map == {1: 0, 3: 1, 18: 2}
    assert imported.names() == ["person", "car", "dog"]
    assert imported.keypoint_names == {1: tuple(JOINTS)}
    assert imported.skeleton[1][0] == (16, 14)
    assert imported.top == {k: sample()[k] for k in ("info", "licenses", "type")}


def test_sample_round_trips_exactly():
    assert_same(export(coco_to_documents(sample())), sample())


def test_round_trip_survives_storing_documents_as_canonical_json():
    imported = coco_to_documents(sample())
    stored = {
        name: parse_document(json.loads(doc.to_bytes()), name)
        for name, doc in imported.documents.items()
    }
    assert stored == imported.documents
    assert_same(documents_to_coco(stored, imported.categories, top=imported.top), sample())


def test_objects_are_normalized_and_kept_per_part():
    docs = coco_to_documents(sample()).documents
    a = docs["a.jpg"]
    assert a.size == (640, 480)
    assert dict(a.extra)["coco.image_id"] == 7
    assert json.loads(dict(a.extra)["coco.image"])["license"] == 3
    kinds = [(o.type, o.cls, o.id) for o in a.objects]
    assert kinds == [
        ("box", 1, "coco:57"),
        ("polygon", 2, "coco:58"),
        ("polygon", 2, "coco:58:1"),
        ("keypoints", 0, "coco:59"),
        ("keypoints", 0, "coco:60"),
        ("polygon", 0, "coco:60:1"),
        ("box", 2, "coco:63"),
    ]
    box = a.objects[0]
    assert box.box == (
        (12.34 + 100.5 / 2) / 640,
        (56.78 + 50.25 / 2) / 480,
        100.5 / 640,
        50.25 / 480,
    )
    person = a.objects[4]
    assert person.points[0] == (310 / 640, 120 / 480, 2) and person.points[3] == (0.0, 0.0, 0)
    assert dict(person.attributes)["coco.parts"] == 2
    assert dict(a.objects[5].attributes)["coco.id"] == 60
    assert docs["empty.jpg"].objects == ()


def test_an_exact_round_trip_needs_the_kept_pixels():
    """Why pixels are kept: x / w * w is not always x."""
    assert 7.3 / 3 * 3 != 7.3 and 1.9 / 1920 * 1920 != 1.9


# Sizes and bboxes as COCO writes them: integers, or floats with few decimals, or any.
pixel = st.one_of(
    st.integers(0, 4000),
    st.integers(0, 400000).map(lambda v: v / 100),
    st.floats(0, 4000, allow_nan=False, allow_subnormal=False),
)


@st.composite
def image_and_bbox(draw):
    width, height = draw(st.integers(1, 8000)), draw(st.integers(1, 8000))
    x = draw(pixel.filter(lambda v: v < width))
    y = draw(pixel.filter(lambda v: v < height))
    w = draw(pixel.filter(lambda v: 0 < v <= width - x))
    h = draw(pixel.filter(lambda v: 0 < v <= height - y))
    return width, height, [x, y, w, h]


@settings(max_examples=400, deadline=None)
@given(image_and_bbox())
def test_any_box_round_trips_exactly(case):
    width, height, bbox = case
    coco = {
        "images": [{"id": 1, "file_name": "f.jpg", "width": width, "height": height}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": bbox,
                         "area": bbox[2] * bbox[3], "iscrowd": 0, "segmentation": []}],
        "categories": [{"id": 1, "name": "thing"}],
    }  # fmt: skip
    imported = coco_to_documents(coco)
    assert imported.problems == []
    doc = imported.documents["f.jpg"]
    assert parse_document(json.loads(doc.to_bytes())) == doc
    assert_same(export(imported), coco)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000), st.integers(1, 5000), st.data())
def test_any_polygon_and_keypoints_round_trip_exactly(width, height, data):
    xs = st.floats(0, width, allow_nan=False)
    ys = st.floats(0, height, allow_nan=False)
    ring = data.draw(st.lists(st.tuples(xs, ys), min_size=3, max_size=8))
    kps = data.draw(st.lists(st.tuples(xs, ys, st.sampled_from([1, 2])), min_size=1))
    flat_kps = [v for p in kps for v in p]
    coco = {
        "images": [{"id": 1, "file_name": "f.jpg", "width": width, "height": height}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, width, height],
                         "area": 1.5, "iscrowd": 0, "keypoints": flat_kps,
                         "num_keypoints": len(kps),
                         "segmentation": [[v for p in ring for v in p]]}],
        "categories": [{"id": 1, "name": "thing"}],
    }  # fmt: skip
    imported = coco_to_documents(coco)
    assert imported.problems == []
    assert_same(export(imported), coco)


# -- edited and native documents -----------------------------------------------------


def edit(doc: LabelDocument, index: int, obj: LabelObject | None) -> LabelDocument:
    objects = list(doc.objects)
    if obj is None:
        del objects[index]
    else:
        objects[index] = obj
    return LabelDocument(tuple(objects), doc.size, doc.tags, doc.by, doc.at, doc.extra)


def by_id(coco: dict) -> dict[int, dict]:
    return {a["id"]: a for a in coco["annotations"]}


def test_a_moved_box_is_written_from_its_new_coordinates():
    imported = coco_to_documents(sample())
    docs = dict(imported.documents)
    box = docs["a.jpg"].objects[0]
    moved = LabelObject("box", box.cls, (0.5, 0.5, 0.25, 0.5), (), box.id, box.attributes)
    docs["a.jpg"] = edit(docs["a.jpg"], 0, moved)
    out = by_id(documents_to_coco(docs, imported.categories, top=imported.top))
    assert out[57]["bbox"] == [240.0, 120.0, 160.0, 240.0]
    assert out[57]["area"] == 38400.0
    assert out[57]["iscrowd"] == 0 and out[57]["segmentation"] == []
    assert {k: v for k, v in out.items() if k != 57} == {
        k: v for k, v in by_id(sample()).items() if k != 57
    }


def test_a_removed_ring_recomputes_bbox_and_area_of_its_annotation():
    imported = coco_to_documents(sample())
    docs = dict(imported.documents)
    docs["a.jpg"] = edit(docs["a.jpg"], 2, None)  # the second ring of annotation 58
    ann = by_id(documents_to_coco(docs, imported.categories))[58]
    assert ann["segmentation"] == [sample()["annotations"][1]["segmentation"][0]]
    assert ann["bbox"] == [100.0, 300.0, 80.5, 40.0]
    assert ann["area"] == 3220.0  # shoelace of the remaining rectangle


def test_a_reclassed_box_keeps_its_pixels_and_a_moved_mask_box_keeps_its_mask():
    imported = coco_to_documents(sample())
    docs = dict(imported.documents)
    b = docs["b.jpg"]
    mask_box, person = b.objects
    moved = LabelObject("box", 0, (0.5, 0.5, 0.5, 0.5), (), mask_box.id, mask_box.attributes)
    reclassed = LabelObject(person.type, 1, person.box, person.points, person.id, person.attributes)
    docs["b.jpg"] = LabelDocument((moved, reclassed), b.size, extra=b.extra)
    out = by_id(documents_to_coco(docs, imported.categories))
    assert out[61]["category_id"] == 1 and out[61]["bbox"] == [83.25, 60.25, 166.5, 120.5]
    assert out[61]["segmentation"] == sample()["annotations"][4]["segmentation"]
    assert out[61]["area"] == 80253  # the mask's, not the box's
    assert out[62] | {"category_id": 1} == sample()["annotations"][5] | {"category_id": 1}
    assert out[62]["category_id"] == 3


def test_copied_objects_get_fresh_ids():
    imported = coco_to_documents(sample())
    docs = dict(imported.documents)
    b = docs["b.jpg"]
    docs["b.jpg"] = LabelDocument(b.objects + b.objects[:1], b.size, extra=b.extra)
    out = documents_to_coco(docs, imported.categories)
    ids = [a["id"] for a in out["annotations"]]
    assert len(ids) == len(set(ids)) == 8 and ids[-1] == 64  # after the largest kept id


def test_native_documents_export_with_deterministic_ids_and_areas():
    docs = {
        "n1.jpg": LabelDocument(
            (
                LabelObject("box", 1, (0.5, 0.5, 0.5, 0.5)),
                LabelObject("polygon", 0, points=((0.0, 0.0), (0.5, 0.0), (0.5, 0.5))),
            ),
            size=(200, 100),
        ),
        "n2.jpg": LabelDocument(
            (
                LabelObject("box", 0, (0.95, 0.5, 0.2, 0.2)),  # reaches past the right edge
                LabelObject("keypoints", 2, (0.5, 0.5, 0.2, 0.2), ((0.5, 0.5, 2), (0.3, 0.3, 0))),
            ),
            size=(1000, 500),
        ),
    }
    categories = categories_from_names(["cat", "dog", "person"])
    out = documents_to_coco(docs, categories)
    assert out["info"] == {} and out["licenses"] == []
    assert [(i["id"], i["file_name"]) for i in out["images"]] == [(1, "n1.jpg"), (2, "n2.jpg")]
    anns = out["annotations"]
    assert [(a["id"], a["image_id"], a["category_id"]) for a in anns] == [
        (1, 1, 2),
        (2, 1, 1),
        (3, 2, 1),
        (4, 2, 3),
    ]
    assert anns[0]["bbox"] == [50.0, 25.0, 100.0, 50.0] and anns[0]["area"] == 5000.0
    assert anns[1]["segmentation"] == [[0.0, 0.0, 100.0, 0.0, 100.0, 50.0]]
    assert anns[1]["bbox"] == [0.0, 0.0, 100.0, 50.0] and anns[1]["area"] == 2500.0
    assert anns[2]["bbox"] == [850.0, 200.0, 150.0, 100.0]  # clipped to the image
    assert anns[3]["keypoints"] == [500.0, 250.0, 2, 0, 0, 0] and anns[3]["num_keypoints"] == 1
    again = coco_to_documents(out)
    assert again.problems == []
    assert_same(export(again), out)  # once exported, the pixels are kept


def test_image_ids_given_win_over_kept_ones():
    imported = coco_to_documents(sample())
    out = documents_to_coco(imported.documents, imported.categories, image_ids={"b.jpg": 7})
    ids = [(i["file_name"], i["id"]) for i in out["images"]]
    assert ids == [("a.jpg", 8), ("b.jpg", 7), ("empty.jpg", 2)]  # a's 7 was taken
    assert {a["image_id"] for a in out["annotations"] if a["id"] in (61, 62)} == {7}


unit = st.floats(0, 1)


@st.composite
def native_document(draw):
    width, height = draw(st.integers(2, 4000)), draw(st.integers(2, 4000))
    objects = []
    for _ in range(draw(st.integers(0, 4))):
        x0 = draw(st.floats(0, 1 - 1 / width))
        x1 = draw(st.floats(x0 + 1 / width, 1))
        y0 = draw(st.floats(0, 1 - 1 / height))
        y1 = draw(st.floats(y0 + 1 / height, 1))
        box = ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)
        kind = draw(st.sampled_from(["box", "polygon", "keypoints"]))
        if kind == "box":
            objects.append(LabelObject("box", 0, box))
        elif kind == "polygon":
            ring = draw(st.lists(st.tuples(unit, unit), min_size=3, max_size=6))
            xs, ys = [x for x, _ in ring], [y for _, y in ring]
            assume(max(xs) - min(xs) > 1 / width and max(ys) - min(ys) > 1 / height)
            objects.append(LabelObject("polygon", 1, points=tuple(ring)))
        else:
            kps = draw(st.lists(st.tuples(unit, unit, st.sampled_from([0, 1, 2])), min_size=1))
            objects.append(LabelObject("keypoints", 2, box, tuple(kps)))
    return LabelDocument(tuple(objects), (width, height))


@settings(max_examples=200, deadline=None)
@given(native_document())
def test_native_documents_export_close_and_then_round_trip_exactly(doc):
    categories = categories_from_names(["a", "b", "c"])
    out = documents_to_coco({"n.jpg": doc}, categories)
    again = coco_to_documents(out)
    assert again.problems == []
    back = again.documents["n.jpg"].objects
    tolerance = 0.0101 / min(doc.size)  # each end rounded to 0.01 px
    for old, new in zip(doc.objects, back, strict=True):
        assert (old.type, old.cls) == (new.type, new.cls)
        if old.box is not None:
            pairs = zip(old.box, new.box, strict=True)
            assert all(math.isclose(a, b, abs_tol=tolerance) for a, b in pairs)
        for p, q in zip(old.points, new.points, strict=True):
            if len(p) == 2 or p[2]:
                pairs = zip(p[:2], q[:2], strict=True)
                assert all(math.isclose(a, b, abs_tol=tolerance) for a, b in pairs)
    assert_same(documents_to_coco(again.documents, again.categories), out)


def test_a_bbox_touching_the_edge_is_inside():
    coco = sample()
    coco["annotations"][0]["bbox"] = [12.34, 0, 627.66, 10]
    assert coco_to_documents(coco).problems == []
    coco["annotations"][0]["bbox"] = [12.34, 0, 627.67, 10]
    assert coco_to_documents(coco).problems[0].problem.endswith("outside the 640x480 image")


@pytest.mark.parametrize(
    ("docs", "message"),
    [
        ({"x.jpg": LabelDocument()}, "x.jpg: has no size; COCO needs the image's width and height"),
        (
            {"x.jpg": LabelDocument((LabelObject("box", 5, (0.5, 0.5, 0.1, 0.1)),), (10, 10))},
            "x.jpg object 0: class 5 has no COCO category (3 categories)",
        ),
        (
            {"x.jpg": LabelDocument(size=(1, 1)), "y.jpg": LabelDocument(size=(1, 1))},
            "image_ids: two images are given the same id",
        ),
    ],
)
def test_export_refuses_what_coco_cannot_say(docs, message):
    with pytest.raises(LabelError) as err:
        ids = {"x.jpg": 1, "y.jpg": 1}
        documents_to_coco(docs, categories_from_names(["a", "b", "c"]), image_ids=ids)
    assert str(err.value) == message
