"""Ultralytics' classify folder layout, both ways."""

from __future__ import annotations

import pytest

from appliance.domain.labels import classify
from appliance.domain.labels.document import LabelDocument

pytestmark = pytest.mark.unit


def test_layout_keeps_class_and_name_and_reports_strays():
    found, problems = classify.parse_layout(
        [
            "train/cat/a.jpg",
            "val/dog/a.jpg",
            "train/dog/b.jpg",
            "loose.jpg",
            "holdout/cat/c.jpg",
            "test/cat/a.jpg",
        ]
    )
    assert found == [
        ("train/cat/a.jpg", "cat/a.jpg", "cat"),
        ("val/dog/a.jpg", "dog/a.jpg", "dog"),
        ("train/dog/b.jpg", "dog/b.jpg", "dog"),
    ]
    assert [p for p, _ in problems] == ["loose.jpg", "holdout/cat/c.jpg", "test/cat/a.jpg"]
    assert "another split" in problems[2][1]
    assert classify.class_names(found) == ["cat", "dog"]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (LabelDocument(tags=("cat",)), "val/cat/x.jpg"),
        (LabelDocument(tags=("cat", "dog")), None),
        (LabelDocument(), None),
        (None, None),
    ],
)
def test_member_name(doc, expected):
    assert classify.member_name("cat/x.jpg", "val", doc) == expected


def test_export_problems_name_multi_tag_and_clashing_images():
    rows = [
        ("a/x.jpg", LabelDocument(tags=("cat",))),
        ("b/x.jpg", LabelDocument(tags=("cat",))),
        ("c.jpg", LabelDocument(tags=("cat", "dog"))),
        ("d.jpg", None),
    ]
    problems = classify.export_problems(rows)
    assert [p for p, _ in problems] == ["b/x.jpg", "c.jpg"]
