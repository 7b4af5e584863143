"""The annotation event stream through the real CLI and a real `ahoy serve`: a JSON
lines file of events sent, resent (skipped, then duplicates), its offset read, the
relabels seen in `ahoy dataset diff --labels`, and a bad line named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def box(cls: int, cx: float = 0.5) -> dict[str, object]:
    return {"type": "box", "class": cls, "box": [cx, 0.5, 0.2, 0.2]}


EVENTS = [
    {"id": "s-0", "file": "cam/0.jpg", "op": "set", "labels": {"objects": [box(1)]}},
    {"id": "s-1", "file": "cam/1.jpg", "op": "set", "labels": {"objects": [box(2)]}},
    {"id": "s-2", "file": "cam/0.jpg", "op": "add", "objects": [box(3, 0.2)]},
    {"id": "s-3", "file": "cam/2.jpg", "op": "set", "labels": {"objects": []}},
    {"0": "s-4", "1": "cam/3.jpg", "2": "set", "3": {"objects": [box(0)]}},  # positional
    {"id": "s-5", "file": "cam/1.jpg", "op": "clear"},
]


def _jsonl(path: Path, events: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_send_resend_offset_and_diff(appliance, tmp_path):
    images = tmp_path / "images" / "cam"
    images.mkdir(parents=True)
    for i in range(4):
        (images / f"{i}.jpg").write_bytes(os.urandom(1200 + i))
    appliance.ahoy("dataset", "create", "stream")
    appliance.ahoy("dataset", "import", str(tmp_path / "images"), "-d", "stream")
    appliance.ahoy("dataset", "commit", "stream", "-m", "unlabelled")
    # cam/1 is labelled in v1 already, so clearing it is a change too
    first = [{"id": "v1", "file": "cam/1.jpg", "op": "set", "labels": {"objects": [box(4)]}}]
    appliance.ahoy("dataset", "events", "send", "stream", str(_jsonl(tmp_path / "v1.jsonl", first)),
                   "--stream", "setup")  # fmt: skip
    appliance.ahoy("dataset", "commit", "stream", "-m", "cam/1 labelled")

    source = _jsonl(tmp_path / "events.jsonl", EVENTS)
    send = ("dataset", "events", "send", "stream", str(source), "--stream", "studio")
    r = appliance.ahoy_json(*send, "--batch", "4")
    assert {k: r[k] for k in ("events", "accepted", "duplicates", "skipped", "offset")} == {
        "events": 6, "accepted": 6, "duplicates": 0, "skipped": 0, "offset": 5,
    }  # fmt: skip
    again = appliance.ahoy_json(*send)
    assert (again["accepted"], again["skipped"], again["sent"]) == (0, 6, 0)
    forced = appliance.ahoy_json(*send, "--no-resume", "--encoding", "json")
    assert (forced["accepted"], forced["duplicates"], forced["offset"]) == (0, 6, 5)

    human = appliance.ahoy("dataset", "events", "offset", "stream", "--stream", "studio").stdout
    assert "offset 5" in human and "6 events" in human and "last s-5" in human
    fresh = appliance.ahoy_json("dataset", "events", "offset", "stream", "--stream", "none-yet")
    assert (fresh["offset"], fresh["events"]) == (None, 0)

    d = appliance.ahoy_json("dataset", "diff", "stream", "2", "working", "--labels")
    changed = {c["filename"]: c["changed"] for c in d["modified"]}
    assert changed == {f"cam/{i}.jpg": ["label"] for i in range(4)}
    assert d["labels"]["cam/0.jpg"]["summary"]["added"] == 2
    assert d["labels"]["cam/1.jpg"]["summary"]["removed"] == 1  # cleared
    assert d["labels"]["cam/3.jpg"]["summary"]["added"] == 1


def test_a_bad_line_is_named_and_the_batches_before_it_stay(appliance, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        (images / f"{i}.jpg").write_bytes(os.urandom(900 + i))
    appliance.ahoy("dataset", "create", "badline")
    appliance.ahoy("dataset", "import", str(images), "-d", "badline")
    events = [{"id": f"b-{i}", "file": f"{i}.jpg", "op": "clear"} for i in range(3)]
    events.insert(2, {"id": "b-x", "file": "missing.jpg", "op": "clear"})
    source = _jsonl(tmp_path / "bad.jsonl", events)
    send = ("dataset", "events", "send", "badline", str(source), "--stream", "s", "--batch", "2")
    r = appliance.ahoy(*send, check=False)
    assert r.returncode == 2
    assert f"{source}:3" in r.stderr and "'missing.jpg' is not in the working area" in r.stderr
    state = appliance.ahoy_json("dataset", "events", "offset", "badline", "--stream", "s")
    assert (state["offset"], state["events"]) == (1, 2)  # the first batch was applied
    _jsonl(source, [e for e in events if e["id"] != "b-x"])
    r = appliance.ahoy_json(*send)
    assert (r["skipped"], r["accepted"], r["offset"]) == (2, 1, 2)
