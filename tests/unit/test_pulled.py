"""The layout a pull writes beside a version's files, and reading it back."""

from __future__ import annotations

import pytest

from appliance.domain.labels.document import LabelDocument, LabelError, LabelObject
from appliance.domain.manifest import ManifestRow, fingerprint
from appliance.domain.pulled import clashes, file_path, fingerprint_of, label_path
from appliance.domain.pulled import manifest_document as pull_manifest
from appliance.sdk.pulled import canonical_label

pytestmark = pytest.mark.unit

ROWS = [
    ManifestRow("b/two.jpg", "b" * 64, None, "image", "val"),
    ManifestRow("a/one.jpg", "a" * 64, "c" * 64, "image", "train"),
    ManifestRow("notes.txt", "d" * 64, None, "file", "test"),
]


def _doc(layout: str, written: set[str]) -> dict:
    return pull_manifest(
        dataset="ds",
        version=3,
        manifest_hash=fingerprint(ROWS),
        split_config={"ratios": [["train", 0.8]], "seed": "s"},
        layout=layout,
        only_split=None,
        rows=[r.as_dict() for r in ROWS],
        written=written,
        labelled={"a/one.jpg"} & written,
        erased=[],
    )


def test_the_manifest_hashes_to_the_version_even_with_erased_rows():
    whole = _doc("tree", {r.filename for r in ROWS})
    erased = _doc("split", {"a/one.jpg"})
    assert fingerprint_of(whole) == fingerprint_of(erased) == fingerprint(ROWS)
    assert [f["filename"] for f in erased["files"]] == ["a/one.jpg", "b/two.jpg", "notes.txt"]
    first, second, _ = erased["files"]
    assert (first["path"], first["labels"]) == ("train/a/one.jpg", ".ahoy/labels/a/one.jpg.json")
    assert (second["path"], second["labels"]) == (None, None)


@pytest.mark.parametrize(
    ("name", "split", "layout", "path", "labels"),
    [
        ("a/x.jpg", "val", "tree", "a/x.jpg", ".ahoy/labels/a/x.jpg.json"),
        ("a/x.jpg", "val", "split", "val/a/x.jpg", ".ahoy/labels/a/x.jpg.json"),
    ],
)
def test_where_a_pull_puts_a_file_and_its_labels(name, split, layout, path, labels):
    assert file_path(name, split, layout) == path and label_path(name) == labels


def test_files_inside_the_pulls_own_folder_clash():
    names = [".ahoy", ".ahoy/x.txt", ".ahoyish/y.txt", "a/.ahoy/z.txt", "b.jpg"]
    assert clashes(names) == [".ahoy", ".ahoy/x.txt"]


def test_a_canonical_label_document_is_kept_byte_for_byte_and_others_canonicalized():
    doc = LabelDocument((LabelObject("box", 1, (0.5, 0.5, 0.25, 0.125)),), size=(640, 480))
    stored = doc.to_bytes()
    assert canonical_label(stored, "x") == stored
    pretty = b'{\n  "objects": [{"type": "box", "class": 1, "box": [0.5, 0.5, 0.25, 0.125]}],\n'
    pretty += b'  "size": [640, 480]\n}'
    assert canonical_label(pretty, "x") == stored
    with pytest.raises(LabelError, match="x"):
        canonical_label(b'{"objects": [{"type": "box", "class": 1, "box": [2, 0, 0, 0]}]}', "x")
