"""A video through the real CLI: every Nth frame becomes a file whose label
document says which video, which frame and when."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.e2e


def test_every_nth_frame_is_imported_with_its_source_and_time(appliance, tmp_path):
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(25):
        writer.write(np.full((48, 64, 3), i * 9, np.uint8))
    writer.release()
    appliance.ahoy("dataset", "create", "frames")
    r = appliance.ahoy_json("dataset", "import", str(video), "-d", "frames", "--every", "10")
    assert r["frames"] == 3 and r["added"] == 3
    appliance.ahoy("dataset", "commit", "frames", "-m", "frames")
    rows = list(appliance.client.manifest(None, "frames", 1))
    names = sorted(row["filename"] for row in rows)
    assert names == ["clip_0000000.jpg", "clip_0000010.jpg", "clip_0000020.jpg"]
    last = next(row for row in rows if row["filename"] == "clip_0000020.jpg")
    doc = json.loads(appliance.client.get_blob(None, last["label_sha256"]))
    assert doc["size"] == [64, 48]
    assert doc["attributes"]["source"] == "clip.mp4"
    assert doc["attributes"]["frame"] == 20 and doc["attributes"]["timestamp"] == 2.0
    assert len(doc["attributes"]["source_sha256"]) == 64


def test_a_file_that_is_no_video_is_refused(appliance, tmp_path):
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"not a video")
    appliance.ahoy("dataset", "create", "novideo")
    r = appliance.ahoy("dataset", "import", str(fake), "-d", "novideo", "--every", "5", check=False)
    assert r.returncode == 2 and "cannot be opened as a video" in r.stdout + r.stderr
