"""A COCO dataset through the real CLI and `ahoy serve`: imported with every kind
of annotation, committed, exported as COCO, and equal number for number."""

from __future__ import annotations

import json
import os

import pytest

from tests.unit.coco_sample import assert_same, sample

pytestmark = pytest.mark.e2e


def test_import_coco_commit_export_round_trip(appliance, tmp_path):
    coco = sample()
    images = tmp_path / "imgs"
    images.mkdir()
    made = {}
    for record in coco["images"]:
        made[record["file_name"]] = os.urandom(1000 + record["id"])
        (images / record["file_name"]).write_bytes(made[record["file_name"]])
    (tmp_path / "ann.json").write_text(json.dumps(coco))
    appliance.ahoy("dataset", "create", "cocoset")
    r = appliance.ahoy_json(
        "dataset", "import-coco", str(tmp_path / "ann.json"), "--images", str(images),
        "-d", "cocoset",
    )  # fmt: skip
    assert r["images"] == len(coco["images"]) and r["added"] == len(coco["images"])
    appliance.ahoy("dataset", "commit", "cocoset", "-m", "from coco")
    out = tmp_path / "out"
    appliance.ahoy_json("dataset", "export", "cocoset", str(out), "-v", "1", "--format", "coco")
    assert_same(json.loads((out / "annotations.json").read_text()), coco)
    assert {p.name: p.read_bytes() for p in (out / "images").iterdir()} == made


def test_a_coco_file_with_problems_is_refused_whole(appliance, tmp_path):
    coco = sample()
    coco["annotations"][0]["category_id"] = 999
    (tmp_path / "ann.json").write_text(json.dumps(coco))
    (tmp_path / "imgs").mkdir()
    appliance.ahoy("dataset", "create", "cocobad")
    r = appliance.ahoy(
        "dataset", "import-coco", str(tmp_path / "ann.json"), "--images", str(tmp_path / "imgs"),
        "-d", "cocobad", check=False,
    )  # fmt: skip
    assert r.returncode == 2
    said = r.stdout + r.stderr
    assert "annotations[0]" in said and "has no such file" in said
    assert appliance.ahoy_json("dataset", "status", "cocobad")["working_files"] == 0
