"""Labelling and review through the real CLI and a real `ahoy serve`, by two people:
an annotator saves and submits, a reviewer rejects with a comment, the annotator
finds it among their rejected work and fixes it, the reviewer approves, and a
commit limited to approved images takes only that one."""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.e2e

USERS = {"vera": "annotator", "rex": "reviewer"}


def _doc(*boxes: tuple[int, float]) -> str:
    objs = [{"type": "box", "class": c, "box": [cx, 0.5, 0.2, 0.2]} for c, cx in boxes]
    return json.dumps({"format": "ahoy.labels/1", "objects": objs})


def test_annotate_reject_fix_approve_commit_only_approved(appliance, tmp_path):
    ahoy = appliance.ahoy
    stdin = PASSWORD + "\n"
    for name, role in USERS.items():
        ahoy("--profile", "default", "user", "create", name, "--password-stdin", stdin=stdin)
        ahoy("--profile", "default", "member", "set", name, role)
    for name in USERS:
        ahoy("login", "--profile", name, "--url", appliance.url, "--username", name,
             "--password-stdin", stdin=stdin)  # fmt: skip

    def as_(who: str, *args: str) -> dict:
        return json.loads(ahoy("--profile", who, *args, "--json").stdout)

    photos = tmp_path / "signs"
    photos.mkdir()
    for name in ("a.jpg", "b.jpg"):
        (photos / name).write_bytes(os.urandom(3000))
    as_("default", "dataset", "create", "signs")
    as_("default", "dataset", "import", str(photos), "--dataset", "signs")
    queue = as_("vera", "label", "queue", "signs")
    assert [(i["path"], i["state"]) for i in queue] == [
        ("a.jpg", "unlabelled"),
        ("b.jpg", "unlabelled"),
    ]

    # the annotator labels both and submits them
    first, fixed = tmp_path / "first.json", tmp_path / "fixed.json"
    first.write_text(_doc((0, 0.5)))
    fixed.write_text(_doc((0, 0.45), (1, 0.8)))
    saved = as_("vera", "label", "set", "signs", "a.jpg", str(first), "--if-match", "none")
    as_("vera", "label", "set", "signs", "b.jpg", str(first))
    for path in ("a.jpg", "b.jpg"):
        assert as_("vera", "label", "submit", "signs", path)["state"] == "submitted"

    # an annotator may not review
    refused = ahoy("--profile", "vera", "label", "approve", "signs", "b.jpg", check=False)
    assert refused.returncode == 7 and "label.review" in refused.stderr

    # the reviewer sends a.jpg back; it is in the annotator's rejected work
    as_("rex", "label", "reject", "signs", "a.jpg", "--comment", "the second sign is missing")
    mine = as_("vera", "label", "queue", "signs", "--state", "rejected", "--mine")
    assert [(i["path"], i["comment"]) for i in mine] == [("a.jpg", "the second sign is missing")]
    assert as_("rex", "label", "queue", "signs", "--state", "rejected", "--mine") == []
    shown = as_("vera", "label", "show", "signs", "a.jpg")
    assert [h["action"] for h in shown["history"]] == ["save", "submit", "reject"]

    # a save from stale labels is refused; from the current ones it goes through
    stale = ahoy("--profile", "vera", "label", "set", "signs", "a.jpg", str(fixed),
                 "--if-match", "none", check=False)  # fmt: skip
    assert stale.returncode == 5 and "reload" in stale.stderr
    done = as_("vera", "label", "set", "signs", "a.jpg", str(fixed),
               "--if-match", saved["label_sha256"])  # fmt: skip
    as_("vera", "label", "submit", "signs", "a.jpg")
    assert as_("rex", "label", "approve", "signs", "a.jpg")["state"] == "approved"

    # only the approved image is committed, with the approved labels
    v = as_("rex", "dataset", "commit", "signs", "--only-approved", "-m", "reviewed")
    assert v["file_count"] == 1
    rows = list(appliance.client.manifest(None, "signs", v["number"]))
    assert [(r["filename"], r["label_sha256"]) for r in rows] == [("a.jpg", done["label_sha256"])]
    again = ahoy("--profile", "rex", "dataset", "commit", "signs", "--only-approved", check=False)
    assert again.returncode == 5 and "wait for approval" in again.stderr

    stats = as_("rex", "label", "stats", "signs")
    (vera,) = stats["annotators"]
    assert vera["annotator"] == "user:vera"
    assert (vera["files_saved"], vera["saves"], vera["submitted"]) == (2, 3, 3)
    assert (vera["approved"], vera["rejected"], vera["rejection_rate"]) == (1, 1, 0.5)
    assert vera["files_per_active_hour"] > 0
    assert stats["reviewers"] == [
        {"reviewer": "user:rex", "approvals": 1, "rejections": 1, "files_reviewed": 1}
    ]
    human = ahoy("--profile", "rex", "label", "stats", "signs").stdout
    assert "user:vera" in human and "50%" in human
