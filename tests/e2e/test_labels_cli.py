"""A YOLO dataset through the real CLI and a real `ahoy serve`: imported with its
labels, committed, exported in its frozen split, and identical file by file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from appliance.domain.labels.yolo import YoloSpec, parse_yolo

pytestmark = pytest.mark.e2e

NAMES = ["sign", "pole"]


def _yolo_folder(root: Path) -> dict[str, tuple[bytes, str]]:
    root.mkdir(parents=True)
    (root / "data.yaml").write_text(
        "path: .\ntrain: images/train\nval: images/val\nnames:\n  0: sign\n  1: pole\n"
    )
    made = {}
    for i in range(12):
        split = "val" if i % 4 == 0 else "train"
        image = os.urandom(1500 + i)
        text = f"{i % 2} 0.{i + 10} 0.5 0.1 0.25\n" + ("1 0.1 0.1 0.2 0.2\n" if i % 3 == 0 else "")
        name = f"img{i:02d}.jpg"
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        (root / "images" / split / name).write_bytes(image)
        (root / "labels" / split / f"img{i:02d}.txt").write_text(text)
        made[name] = (image, text)
    return made


def test_import_yolo_commit_export_round_trip(appliance, tmp_path):
    source = _yolo_folder(tmp_path / "yolo")
    appliance.ahoy("dataset", "create", "signs")
    r = appliance.ahoy_json("dataset", "import-yolo", str(tmp_path / "yolo"), "-d", "signs")
    assert (r["images"], r["labelled"], r["added"]) == (12, 12, 12)
    appliance.ahoy("dataset", "commit", "signs", "-m", "labelled")
    schema = appliance.ahoy_json("dataset", "schema", "signs")
    assert [c["name"] for c in schema["classes"]] == NAMES
    stats = appliance.ahoy_json("dataset", "stats", "signs", "-v", "1")
    assert stats["objects"] == 12 + 4 and stats["unlabelled_images"] == 0
    out = tmp_path / "out"
    appliance.ahoy_json("dataset", "export", "signs", str(out), "-v", "1")
    images = {p.name: p.read_bytes() for p in (out / "images").rglob("*.jpg")}
    labels = {p.stem: p.read_text() for p in (out / "labels").rglob("*.txt")}
    assert images == {n: img for n, (img, _) in source.items()}
    # Values, not spellings: "0.10" comes back as "0.1", the same number.
    spec = YoloSpec("detect", len(NAMES))
    expected = {n.rsplit(".", 1)[0]: text for n, (_, text) in source.items()}
    assert labels.keys() == expected.keys()
    for stem, text in expected.items():
        assert parse_yolo(labels[stem], spec, stem) == parse_yolo(text, spec, stem), stem
    assert '0: "sign"' in (out / "data.yaml").read_text()
    # and the export imports again to the same content and labels: nothing changes
    appliance.ahoy("dataset", "create", "again")
    appliance.ahoy_json("dataset", "import-yolo", str(out), "-d", "again")
    appliance.ahoy("dataset", "commit", "again", "-m", "re-imported")
    first = appliance.ahoy_json("dataset", "log", "signs")[0]["manifest_hash"]
    second = appliance.ahoy_json("dataset", "log", "again")[0]["manifest_hash"]
    assert first == second


def test_a_bad_label_file_refuses_the_whole_import(appliance, tmp_path):
    _yolo_folder(tmp_path / "bad")
    (tmp_path / "bad" / "labels" / "train" / "img01.txt").write_text("7 0.5 0.5 0.1 0.1\n")
    (tmp_path / "bad" / "labels" / "train" / "img02.txt").write_text("0 0.5 0.5 1.5 0.1\n")
    appliance.ahoy("dataset", "create", "refused")
    r = appliance.ahoy(
        "dataset", "import-yolo", str(tmp_path / "bad"), "-d", "refused", check=False
    )
    assert r.returncode == 2
    assert "labels/train/img01.txt:1" in r.stderr + r.stdout
    assert "labels/train/img02.txt:1" in r.stderr + r.stdout
    assert appliance.ahoy_json("dataset", "status", "refused")["working_files"] == 0


def test_a_relabel_shows_object_by_object_in_the_diff(appliance, tmp_path):
    root = tmp_path / "relabel"
    _yolo_folder(root)
    appliance.ahoy("dataset", "create", "relabel")
    appliance.ahoy_json("dataset", "import-yolo", str(root), "-d", "relabel")
    appliance.ahoy("dataset", "commit", "relabel", "-m", "v1")
    # img03: its box moves a little and its second object changes class
    (root / "labels" / "train" / "img03.txt").write_text("1 0.14 0.5 0.1 0.25\n0 0.1 0.1 0.2 0.2\n")
    appliance.ahoy_json("dataset", "import-yolo", str(root), "-d", "relabel")
    appliance.ahoy("dataset", "commit", "relabel", "-m", "v2")
    d = appliance.ahoy_json("dataset", "diff", "relabel", "1", "2", "--labels")
    assert [c["filename"] for c in d["modified"]] == ["img03.jpg"]
    assert d["modified"][0]["changed"] == ["label"]
    summary = d["labels"]["img03.jpg"]["summary"]
    assert summary == {"added": 0, "removed": 0, "moved": 1, "reclassed": 1, "unchanged": 0}


def test_classify_folders_round_trip(appliance, tmp_path):
    src = tmp_path / "cls"
    made = {}
    for i in range(8):
        cls = ("cat", "dog")[i % 2]
        split = ("train", "val")[i % 4 == 3]
        path = src / split / cls / f"im{i}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(900 + i))
        made[(cls, path.name)] = path.read_bytes()
    appliance.ahoy("dataset", "create", "pets-cls")
    r = appliance.ahoy_json("dataset", "import-yolo", str(src), "-d", "pets-cls")
    assert (r["images"], r["labelled"], r["classes"]) == (8, 8, ["cat", "dog"])
    appliance.ahoy("dataset", "commit", "pets-cls", "-m", "classified")
    out = tmp_path / "out"
    appliance.ahoy_json("dataset", "export", "pets-cls", str(out), "--task", "classify")
    back = {(p.parent.name, p.name): p.read_bytes() for p in out.rglob("*.jpg")}
    assert back == made  # every image under its class, in its frozen split folder
    assert {p.relative_to(out).parts[0] for p in out.rglob("*.jpg")} <= {"train", "val", "test"}


def test_export_force_never_writes_through_a_link_in_the_destination(appliance, tmp_path):
    _yolo_folder(tmp_path / "linked")
    appliance.ahoy("dataset", "create", "linked")
    appliance.ahoy_json("dataset", "import-yolo", str(tmp_path / "linked"), "-d", "linked")
    appliance.ahoy("dataset", "commit", "linked", "-m", "v1")
    outside, victim = tmp_path / "outside", tmp_path / "victim.txt"
    outside.mkdir()
    victim.write_text("keep me")
    out = tmp_path / "out"
    (out / "labels").mkdir(parents=True)
    (out / "images").symlink_to(outside, target_is_directory=True)
    (out / "data.yaml").symlink_to(victim)
    r = appliance.ahoy("dataset", "export", "linked", str(out), "--force", check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{out / 'images'}: is a symbolic link (to {outside})" in r.stderr
    assert list(outside.iterdir()) == [] and victim.read_text() == "keep me"
