"""Label documents, YOLO text, the schema preset, label diffs and statistics."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.domain.labels.diff import diff_labels
from appliance.domain.labels.document import (
    LabelDocument,
    LabelError,
    LabelObject,
    parse_document,
)
from appliance.domain.labels.schema import WEATHER_SLOTS, weather_preset
from appliance.domain.labels.stats import dataset_stats, warnings_for
from appliance.domain.labels.yolo import YoloSpec, dropped_objects, format_yolo, parse_yolo

pytestmark = pytest.mark.unit

DETECT = YoloSpec("detect", 80)
BOX = LabelObject("box", 3, (0.5, 0.5, 0.2, 0.1))


# -- documents ---------------------------------------------------------------------


def test_equal_labels_hash_equal_and_any_change_shows():
    a = LabelDocument((BOX,), size=(640, 480))
    b = parse_document(json.loads(a.to_bytes()))
    assert b == a and b.sha256 == a.sha256
    moved = LabelDocument((LabelObject("box", 3, (0.5, 0.5, 0.2, 0.11)),), size=(640, 480))
    assert moved.sha256 != a.sha256


def test_golden_hash_of_a_small_document():
    """The canonical form is a contract: a change here re-hashes every stored label."""
    doc = LabelDocument((BOX,), size=(640, 480), tags=("night",))
    assert doc.to_bytes() == (
        b'{"format":"ahoy.labels/1","objects":[{"box":[0.5,0.5,0.2,0.1],"class":3,'
        b'"type":"box"}],"size":[640,480],"tags":["night"]}'
    )


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "is a JSON object"),
        ({"format": "other/1"}, "is not"),
        ({"size": [0, 10]}, "size is"),
        ({"objects": [{"type": "blob", "class": 1}]}, "type 'blob'"),
        ({"objects": [{"type": "box", "class": -1, "box": [0.5, 0.5, 0.1, 0.1]}]}, "class -1"),
        ({"objects": [{"type": "box", "class": 1, "box": [0.5, 0.5, 1.2, 0.1]}]}, "0..1"),
        ({"objects": [{"type": "box", "class": 1, "box": [0.5, 0.5, 0, 0.1]}]}, "zero width"),
        ({"objects": [{"type": "polygon", "class": 1, "points": [[0, 0], [1, 1]]}]}, "3 points"),
        (
            {
                "objects": [
                    {
                        "type": "keypoints",
                        "class": 0,
                        "box": [0.5, 0.5, 0.1, 0.1],
                        "points": [[0.5, 0.5, 7]],
                    }
                ]
            },
            "v 0, 1 or 2",
        ),
        ({"attributes": {"a": [1]}}, "attributes map"),
    ],
)
def test_bad_documents_name_the_problem(data, says):
    with pytest.raises(LabelError) as info:
        parse_document(data, "img.jpg")
    assert says in str(info.value) and "img.jpg" in str(info.value)


# -- YOLO ----------------------------------------------------------------------------


def test_yolo_detect_round_trip_keeps_every_value():
    text = "0 0.512345 0.25 0.1 0.2\n17 0.9 0.9 0.05 0.0500001\n"
    doc, problems = parse_yolo(text, DETECT, "a.txt")
    assert not problems
    again, _ = parse_yolo(format_yolo(doc, DETECT), DETECT, "a.txt")
    assert again == doc and format_yolo(again, DETECT) == text


@given(
    st.lists(
        st.tuples(
            st.integers(0, 79),
            st.floats(0, 1),
            st.floats(0, 1),
            st.floats(1e-6, 1),
            st.floats(1e-6, 1),
        ),
        max_size=20,
    )
)
def test_yolo_detect_round_trip_is_exact_for_any_values(rows):
    text = "".join(f"{c} {cx!r} {cy!r} {w!r} {h!r}\n" for c, cx, cy, w, h in rows)
    doc, problems = parse_yolo(text, DETECT, "x.txt")
    assert not problems
    assert format_yolo(doc, DETECT) == text


def test_yolo_segment_and_pose_round_trip():
    seg = YoloSpec("segment", 5)
    text = "2 0.1 0.1 0.9 0.1 0.5 0.8\n1 0.5 0.5 0.2 0.2\n"
    doc, problems = parse_yolo(text, seg, "s.txt")
    assert not problems and [o.type for o in doc.objects] == ["polygon", "box"]
    assert format_yolo(doc, seg) == text
    pose = YoloSpec("pose", 1, (2, 3))
    text = "0 0.5 0.5 0.4 0.6 0.4 0.3 2 0.6 0.3 0\n"
    doc, problems = parse_yolo(text, pose, "p.txt")
    assert not problems and doc.objects[0].points == ((0.4, 0.3, 2), (0.6, 0.3, 0))
    assert format_yolo(doc, pose) == text


def test_yolo_problems_are_all_listed_with_their_line():
    text = "0 0.5 0.5 0.1 0.1\nx 0.5 0.5 0.1 0.1\n99 0.5 0.5 0.1 0.1\n1 0.5 0.5 1.5 0.1\n1 0.5\n"
    _, problems = parse_yolo(text, DETECT, "bad.txt")
    assert [p.where for p in problems] == ["bad.txt:2", "bad.txt:3", "bad.txt:4", "bad.txt:5"]
    assert "not an integer" in problems[0].problem
    assert "outside 0..79" in problems[1].problem
    assert "0..1" in problems[2].problem
    assert "5 fields" in problems[3].problem


def test_pose_export_leaves_out_what_it_cannot_hold():
    pose = YoloSpec("pose", 2, (1, 3))
    doc = LabelDocument((BOX, LabelObject("keypoints", 0, (0.5, 0.5, 0.2, 0.2), ((0.5, 0.5, 2),))))
    assert dropped_objects(doc, pose) == 1
    assert format_yolo(doc, pose) == "0 0.5 0.5 0.2 0.2 0.5 0.5 2\n"


# -- schema --------------------------------------------------------------------------


def test_weather_preset_keeps_ids_by_mode_offset():
    schema = weather_preset()
    names = schema.names()
    assert len(names) == WEATHER_SLOTS == 80
    assert names[0] == "ArmorVehicle_Norm" and names[20] == "ArmorVehicle_Wint"
    assert names[56] == "Caponier_Night" and names[17] == "reserved_17"
    assert sum(not c.reserved for c in schema.classes) == 51
    doc = LabelDocument((LabelObject("box", 17, (0.5, 0.5, 0.1, 0.1)), BOX))
    assert [p.where for p in schema.check(doc, "f.jpg")] == ["f.jpg object 0"]


# -- diff and stats ------------------------------------------------------------------


def test_label_diff_sees_added_removed_moved_and_reclassed():
    keep = LabelObject("box", 1, (0.2, 0.2, 0.1, 0.1))
    move_a = LabelObject("box", 2, (0.5, 0.5, 0.2, 0.2))
    move_b = LabelObject("box", 2, (0.51, 0.5, 0.2, 0.2))
    recls_a = LabelObject("box", 3, (0.8, 0.8, 0.1, 0.1), id="t1")
    recls_b = LabelObject("box", 4, (0.3, 0.8, 0.1, 0.1), id="t1")  # matched by id
    gone = LabelObject("box", 5, (0.1, 0.9, 0.05, 0.05))
    new = LabelObject("box", 6, (0.9, 0.1, 0.05, 0.05))
    d = diff_labels(
        LabelDocument((keep, move_a, recls_a, gone)), LabelDocument((new, recls_b, move_b, keep))
    )
    assert d.summary() == {"added": 1, "removed": 1, "moved": 1, "reclassed": 1, "unchanged": 1}
    assert d.added == [new] and d.removed == [gone]
    assert diff_labels(None, LabelDocument((keep,))).summary()["added"] == 1


def test_stats_count_per_class_and_split_and_warn():
    dup = LabelObject("box", 1, (0.5, 0.5, 0.2, 0.2))
    edge = LabelObject("box", 2, (0.95, 0.5, 0.2, 0.2))
    rows = [
        ("a.jpg", "train", LabelDocument((dup, dup))),
        ("b.jpg", "val", LabelDocument((edge,))),
        ("c.jpg", "train", None),
    ]
    st_ = dataset_stats(rows)
    d = st_.as_dict(["zero", "one", "two"])
    assert d["images"] == 3 and d["unlabelled_images"] == 1 and d["objects"] == 3
    assert d["per_class"][0] == {"class": 1, "name": "one", "objects": 2, "per_split": {"train": 2}}
    kinds = sorted(w.kind for w in st_.warnings)
    assert kinds == ["duplicate", "outside-image"]
    assert sum(d["box_size_histogram"]["counts"]) == 3
    assert warnings_for("x", LabelDocument((BOX,))) == []


def test_a_class_without_objects_is_counted_and_is_the_first_warning():
    dup = LabelObject("box", 1, (0.5, 0.5, 0.2, 0.2))
    d = dataset_stats([("a.jpg", "train", LabelDocument((dup, dup)))]).as_dict(
        classes={0: "cat", 1: "dog", 41: "cup"}
    )
    assert [(c["name"], c["objects"], c["per_split"]) for c in d["per_class"]] == [
        ("cat", 0, {}),
        ("dog", 2, {"train": 2}),
        ("cup", 0, {}),
    ]
    kinds = [(w["kind"], w["filename"]) for w in d["warnings"]]
    assert kinds == [("missing-class", None), ("missing-class", None), ("duplicate", "a.jpg")]
    assert "'cat' (id 0) has no objects" in d["warnings"][0]["detail"]
    assert "'cup' (id 41)" in d["warnings"][1]["detail"]
