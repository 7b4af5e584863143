"""A pull rebuilds the files, the label documents and the split of a version, byte
for byte, through the real CLI and a real `ahoy serve`; the folder alone answers
"what exact data is this" (its .ahoy/manifest.json hashes to the version's
manifest_hash), and importing it back with --labels commits to the same version."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from appliance.domain.pulled import fingerprint_of
from tests.conftest import tree_digests

pytestmark = pytest.mark.e2e

SPLIT = ("--split", "train=0.5,val=0.25,test=0.25", "--seed", "pull-labels")


def _yolo_folder(root: Path, n: int = 12) -> None:
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nnames:\n  0: sign\n  1: pole\n")
    for i in range(n):
        (root / "images" / "train" / f"img{i:02d}.jpg").write_bytes(os.urandom(900 + i))
        text = f"{i % 2} 0.{i + 10} 0.5 0.1 0.25\n" + ("1 0.1 0.1 0.2 0.2\n" if i % 3 else "")
        (root / "labels" / "train" / f"img{i:02d}.txt").write_text(text)


def _labelled_version(appliance: Any, tmp_path: Path, name: str) -> dict[str, Any]:
    """A dataset (own split) with 12 labelled images and one unlabelled file."""
    _yolo_folder(tmp_path / f"{name}-yolo")
    appliance.ahoy("dataset", "create", name, *SPLIT)
    appliance.ahoy("dataset", "import-yolo", str(tmp_path / f"{name}-yolo"), "-d", name)
    extra = tmp_path / f"{name}-extra"
    extra.mkdir()
    (extra / "notes.txt").write_text("who took these photos, and when\n")
    appliance.ahoy("dataset", "import", str(extra), "-d", name)
    return appliance.ahoy_json("dataset", "commit", name, "-m", "labelled")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_pull_writes_each_label_document_and_the_manifest_byte_for_byte(appliance, tmp_path):
    v = _labelled_version(appliance, tmp_path, "pl-signs")
    c = appliance.client
    rows = {r["filename"]: r for r in c.manifest(None, "pl-signs", v["number"])}
    assert sum(1 for r in rows.values() if r["label_sha256"]) == 12
    dest = tmp_path / "pulled"
    report = appliance.ahoy_json("dataset", "pull", "pl-signs", str(dest), "-v", "1")
    assert (report["files"], report["labels"]) == (13, 12)
    assert report["meta"] == str(dest / ".ahoy")
    doc = json.loads((dest / ".ahoy" / "manifest.json").read_text())
    assert doc["format"] == "ahoy.pull/1" and doc["layout"] == "tree"
    assert (doc["dataset"], doc["version"]) == ("pl-signs", 1)
    # the folder alone says which data it is: its rows hash to the version's fingerprint
    assert doc["manifest_hash"] == v["manifest_hash"] == fingerprint_of(doc)
    assert doc["split"]["seed"] == "pull-labels"
    assert {f["filename"]: f["split"] for f in doc["files"]} == {
        n: r["split"] for n, r in rows.items()
    }
    for f in doc["files"]:
        row = rows[f["filename"]]
        assert _sha(dest / f["path"]) == row["sha256"]
        if row["label_sha256"] is None:
            assert f["labels"] is None
            assert not (dest / ".ahoy" / "labels" / f"{f['filename']}.json").exists()
            continue
        label = dest / ".ahoy" / "labels" / f"{f['filename']}.json"
        assert f["labels"] == f".ahoy/labels/{f['filename']}.json"
        # the exact stored document, not a re-encoding of it
        assert label.read_bytes() == c.get_blob(None, row["label_sha256"])
        assert _sha(label) == row["label_sha256"]
    human = appliance.ahoy("dataset", "pull", "pl-signs", str(tmp_path / "h")).stdout
    assert "12 label documents under" in human and ".ahoy/manifest.json" in human

    # --layout split: <split>/<filename>, the split as recorded; labels by filename
    by_split = tmp_path / "by-split"
    appliance.ahoy_json("dataset", "pull", "pl-signs", str(by_split), "--layout", "split")
    data = {k: v for k, v in tree_digests(by_split).items() if not k.startswith(".ahoy/")}
    assert data == {f"{r['split']}/{n}": r["sha256"] for n, r in rows.items()}
    split_doc = json.loads((by_split / ".ahoy" / "manifest.json").read_text())
    assert all(f["path"] == f"{f['split']}/{f['filename']}" for f in split_doc["files"])
    assert {p.name for p in (by_split / ".ahoy" / "labels").iterdir()} == {
        f"{n}.json" for n, r in rows.items() if r["label_sha256"]
    }

    # one split: only its files and their labels; the manifest says which split
    val = [n for n, r in rows.items() if r["split"] == "val"]
    only = appliance.ahoy_json("dataset", "pull", "pl-signs", str(tmp_path / "v"), "--split", "val")
    assert only["files"] == len(val)
    val_doc = json.loads((tmp_path / "v" / ".ahoy" / "manifest.json").read_text())
    assert val_doc["only_split"] == "val" and sorted(f["filename"] for f in val_doc["files"]) == val

    # --bare: the files alone, as before
    bare = tmp_path / "bare"
    appliance.ahoy("dataset", "pull", "pl-signs", str(bare), "--bare")
    assert set(tree_digests(bare)) == set(rows)


def test_a_pull_of_an_erased_file_says_so_and_writes_no_label_for_it(appliance, tmp_path):
    v = _labelled_version(appliance, tmp_path, "pl-erased")
    rows = {r["filename"]: r for r in appliance.client.manifest(None, "pl-erased", 1)}
    victim = sorted(n for n, r in rows.items() if r["label_sha256"])[0]
    appliance.ahoy("erase", "--dataset", "pl-erased", "--file", victim, "--reason", "GDPR 7")
    dest = tmp_path / "p"
    pulled = appliance.ahoy_json("dataset", "pull", "pl-erased", str(dest), "-v", "1")
    assert [e["filename"] for e in pulled["erased"]] == [victim]
    assert pulled["erased"][0]["reason"] == "GDPR 7"
    assert (pulled["files"], pulled["labels"]) == (12, 11)
    assert not (dest / victim).exists()
    assert not (dest / ".ahoy" / "labels" / f"{victim}.json").exists()
    doc = json.loads((dest / ".ahoy" / "manifest.json").read_text())
    gone = next(f for f in doc["files"] if f["filename"] == victim)
    assert gone["path"] is None and gone["labels"] is None
    assert gone["label_sha256"] == rows[victim]["label_sha256"]  # the row is still there
    assert [e["filename"] for e in doc["erased"]] == [victim]
    assert fingerprint_of(doc) == v["manifest_hash"]
    human = appliance.ahoy("dataset", "pull", "pl-erased", str(tmp_path / "h"), "-v", "1").stdout
    assert f"erased (not restored): {victim}" in human and "GDPR 7" in human


def test_a_pulled_folder_imported_with_its_labels_commits_to_the_same_manifest(appliance, tmp_path):
    v = _labelled_version(appliance, tmp_path, "pl-source")
    dest = tmp_path / "pulled"
    appliance.ahoy("dataset", "pull", "pl-source", str(dest))

    # without --labels: .ahoy/ is not data, and the import says what it left
    appliance.ahoy("dataset", "create", "pl-nolabels", *SPLIT)
    plain = appliance.ahoy("dataset", "import", str(dest), "-d", "pl-nolabels").stdout
    assert "a pull of pl-source@1" in plain and "pass --labels to attach its 12" in plain
    status = appliance.ahoy_json("dataset", "status", "pl-nolabels")
    assert status["working_files"] == 13

    # with --labels into a dataset split its own way: the import names the moves
    # and the commit options that keep the pulled split; committed so, same hash
    appliance.ahoy("dataset", "create", "pl-copy")
    r = appliance.ahoy_json("dataset", "import", str(dest), "-d", "pl-copy", "--labels")
    assert r["files"] == 13 and r["pulled"]["labels_attached"] == 12
    assert r["pulled"]["source"] == "pl-source@1"
    options = r["pulled"]["split"]["commit_options"]
    assert options == "--split train=0.5,val=0.25,test=0.25 --seed pull-labels"
    again = appliance.ahoy_json("dataset", "commit", "pl-copy", "-m", "from a pull", *SPLIT)
    assert again["manifest_hash"] == v["manifest_hash"]
    same = appliance.ahoy_json("dataset", "diff", "pl-copy", "1", "working")
    assert same["summary"]["modified"] == 0

    # a label document that is not valid refuses the import, naming it
    bad = dest / ".ahoy" / "labels" / "img03.jpg.json"
    bad.write_text('{"objects": [{"type": "box", "class": 0, "box": [0.5, 0.5, 2, 1]}]}')
    appliance.ahoy("dataset", "create", "pl-bad")
    refused = appliance.ahoy(
        "dataset", "import", str(dest), "-d", "pl-bad", "--labels", check=False
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert ".ahoy/labels/img03.jpg.json" in refused.stderr
    assert appliance.ahoy_json("dataset", "status", "pl-bad")["working_files"] == 0

    # --labels on a folder no pull wrote says what it is for
    wrong = appliance.ahoy(
        "dataset",
        "import",
        str(tmp_path / "pl-source-extra"),
        "-d",
        "pl-bad",
        "--labels",
        check=False,
    )
    assert wrong.returncode == 2 and "import-yolo" in wrong.stderr


def test_a_version_with_files_where_the_pull_keeps_its_own_is_refused_unless_bare(
    appliance, tmp_path
):
    src = tmp_path / "odd"
    (src / ".ahoy").mkdir(parents=True)
    (src / ".ahoy" / "notes.txt").write_text("a folder of the data itself\n")
    (src / "a.jpg").write_bytes(os.urandom(500))
    appliance.ahoy("dataset", "create", "pl-odd")
    appliance.ahoy("dataset", "import", str(src), "-d", "pl-odd")
    appliance.ahoy("dataset", "commit", "pl-odd")
    refused = appliance.ahoy("dataset", "pull", "pl-odd", str(tmp_path / "p"), check=False)
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert ".ahoy/notes.txt" in refused.stderr and "--bare" in refused.stderr
    appliance.ahoy("dataset", "pull", "pl-odd", str(tmp_path / "b"), "--bare")
    assert tree_digests(tmp_path / "b") == tree_digests(src)
    appliance.ahoy("dataset", "pull", "pl-odd", str(tmp_path / "s"), "--layout", "split")
    assert (tmp_path / "s" / ".ahoy" / "manifest.json").is_file()
