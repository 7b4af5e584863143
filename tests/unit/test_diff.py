import pytest

from appliance.domain.diff import diff_manifests
from appliance.domain.manifest import ManifestRow

pytestmark = pytest.mark.unit


def row(name, sha="a", label=None, split="train"):
    return ManifestRow(name, sha * 64, label and label * 64, "image", split)


def test_added_removed_modified_with_old_and_new_hashes():
    old = [row("keep"), row("gone"), row("edit", "b"), row("relabel", "c", "1")]
    new = [row("keep"), row("new", "d"), row("edit", "e"), row("relabel", "c", "2")]
    d = diff_manifests(old, new)
    assert [c.filename for c in d.added] == ["new"]
    assert [c.filename for c in d.removed] == ["gone"]
    assert [c.filename for c in d.modified] == ["edit", "relabel"]
    assert d.modified[0].kinds == ("content",)
    assert d.modified[1].kinds == ("label",)
    edit = d.modified[0].as_dict()
    assert edit["old"]["sha256"] == "b" * 64 and edit["new"]["sha256"] == "e" * 64
    assert d.unchanged == 1
    assert d.summary() == {"added": 1, "removed": 1, "modified": 2, "unchanged": 1}


def test_identical_manifests_diff_empty():
    rows = [row("a"), row("b", "b")]
    assert diff_manifests(rows, list(reversed(rows))).is_empty
