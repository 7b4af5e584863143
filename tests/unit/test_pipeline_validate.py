"""The pipeline file's validation: each mistake is one error naming its line, its
key path and the fix (agent/ahoy_agent/runtime/pipeline_validate.py)."""

from __future__ import annotations

import pytest
from ahoy_agent.runtime.pipeline_schema import PIPELINE_SCHEMA
from ahoy_agent.runtime.pipeline_validate import summary, validate_text
from jsonschema import Draft202012Validator

pytestmark = pytest.mark.unit

#: the newcomer's file from the issue, as written there
EXAMPLE = """\
model: shapes@production        # registry ref; or a path to .onnx / .rknn / .engine
sources:
  - video: ./yard.mp4           # also: folder/glob of images, rtsp://…, usb: /dev/video0
sample: {every: 4}              # the old pipeline ran every 4th frame
track: bytetrack
zones: [{name: gate, line: [[100,400],[900,400]]}]
sinks: [{jsonl: ./out/detections.jsonl}, {video: ./out/annotated.mp4}]
"""


def _errors(text: str) -> list[str]:
    return [e.render("p.yaml") for e in validate_text(text).errors]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    Draft202012Validator.check_schema(PIPELINE_SCHEMA)


def test_the_newcomers_ten_lines_are_valid():
    checked = validate_text(EXAMPLE)
    assert checked.errors == []
    assert checked.pipeline is not None
    assert checked.pipeline["zones"][0]["line"] == [[100, 400], [900, 400]]
    assert summary(checked.pipeline) == "model shapes@production, 1 source, 1 zone, 2 sinks"


def test_every_part_the_schema_names_validates():
    text = """\
name: yard
model: ./models/shapes.onnx
backend: onnxruntime
sources:
  - {name: a, video: ./a.mp4}
  - images: ./frames/*.jpg
  - rtsp: rtsp://cam.local/stream1
  - rtmp: rtmp://relay/live/cam
  - hls: https://cdn.example/live/index.m3u8
  - usb: /dev/video0
sample: {every: 1}
track: false
thresholds: {conf: 0.25, iou: 0.7, max_det: 100}
stages:
  - filter: {classes: [person, car]}
  - classify: {model: colours@production, classes: [car], conf: 0.5}
zones:
  - {name: yard, polygon: [[0, 0], [640, 0], [640, 480]], classes: [person]}
sinks:
  - jsonl: ./out/d.jsonl
  - images: ./out/frames
  - mqtt: {url: "mqtt://broker:1883", topic: ahoy/yard, qos: 1}
  - webhook: https://hooks.example/ahoy
  - appliance: true
"""
    assert _errors(text) == []


def _replace(old: str, new: str) -> str:
    assert old in EXAMPLE
    return EXAMPLE.replace(old, new)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            _replace("- video:", "- vidoe:"),
            "p.yaml:3: sources[0].vidoe: unknown key; did you mean 'video'?",
        ),
        (
            _replace("model:", "modle:"),
            "p.yaml:1: modle: unknown key; did you mean 'model'?",
        ),
        (
            _replace("track: bytetrack", "track: bytetrak"),
            "p.yaml:5: track: 'bytetrak' is not one of bytetrack, false; did you mean 'bytetrack'?",
        ),
        (
            _replace("{every: 4}", "{every: four}"),
            "p.yaml:4: sample.every: expected a whole number, got 'four'",
        ),
        (
            _replace("{every: 4}", "{every: 0}"),
            "p.yaml:4: sample.every: must be ≥ 1, got 0",
        ),
        (
            _replace("{every: 4}", "{evry: 4}"),
            "p.yaml:4: sample.evry: unknown key; did you mean 'every'?",
        ),
        (
            _replace("track: bytetrack", "track: bytetrack\nfps: 5"),
            "p.yaml:6: fps: unknown key; expected one of: name, model, backend, sources,",
        ),
        (
            _replace("line: [[100,400],[900,400]]", "line: [[100,400]]"),
            "p.yaml:6: zones[0].line: needs at least 2 items, got 1",
        ),
        (
            _replace("line: [[100,400],[900,400]]", "polygon: [[1,1],[2,2]]"),
            "p.yaml:6: zones[0].polygon: needs at least 3 items, got 2",
        ),
        (
            _replace("{name: gate, line:", "{line:"),
            "p.yaml:6: zones[0].name: missing; the zone's name",
        ),
        (
            _replace(
                "line: [[100,400],[900,400]]", "line: [[1,1],[2,2]], polygon: [[1,1],[2,2],[3,3]]"
            ),
            "p.yaml:6: zones[0]: has polygon and line; give exactly one of polygon, line",
        ),
        (
            _replace("  - video: ./yard.mp4", "  - name: yard"),
            "p.yaml:3: sources[0]: needs one of video, images, rtsp, rtmp, hls, usb",
        ),
        (
            _replace("  - video: ./yard.mp4", "  - rtsp: http://cam/1"),
            "p.yaml:3: sources[0].rtsp: 'http://cam/1' is not the right form",
        ),
        (
            _replace("sources:\n  - video: ./yard.mp4", "sources: ./yard.mp4"),
            "p.yaml:2: sources: expected a list, got './yard.mp4'",
        ),
        (
            _replace("model: shapes@production", "model: shapes@production\nmodel: other"),
            "p.yaml:2: model: duplicate key; the later one would silently win",
        ),
        (
            _replace(
                "{name: gate, line: [[100,400],[900,400]]}]",
                "{name: a, line: [[1,1],[2,2]]}, {name: a, line: [[3,3],[4,4]]}]",
            ),
            "p.yaml:6: zones[1].name: 'a' is already the name of zones[0]",
        ),
        (
            EXAMPLE.replace("sinks:", "#sinks:"),
            "p.yaml:1: sinks: missing; where results go",
        ),
        ("sources: [{video: a.mp4}\nmodel: x\n", "p.yaml:2: (file): not valid YAML"),
        (
            _replace("track: bytetrack", "track: bytetrack\non: 1"),
            "p.yaml:6: (file): key 'on' is not text to YAML",
        ),
        ("", "p.yaml:1: (file): empty; a pipeline needs model, sources and sinks"),
        ("- model: x\n", "p.yaml:1: (file): must be a mapping of keys"),
    ],
)
def test_each_mistake_names_its_line_and_key(text: str, expected: str):
    errors = _errors(text)
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors


def test_every_error_is_reported_in_line_order():
    text = EXAMPLE.replace("- video:", "- vidoe:").replace("{every: 4}", "{every: -1}")
    text = text.replace("track: bytetrack", "track: yes please")
    assert [e.split(":")[1] for e in _errors(text)] == ["3", "4", "5"]
