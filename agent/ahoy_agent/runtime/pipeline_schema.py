"""The pipeline file's JSON Schema (draft 2020-12): what a pipeline YAML may say.

Every object refuses keys it does not name, so a typo is an error, not a silent
default. A source, a sink, a zone and a stage each have exactly one kind key
(``video:``, ``jsonl:``, ``line:``, ``classify:``…); the kind lists below are the
one place those names live. ``description`` texts double as the "what to do"
part of validation errors (:mod:`ahoy_agent.runtime.pipeline_validate`).
"""

from __future__ import annotations

from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:ahoy:schema:pipeline:1"

_PATH = {"type": "string", "minLength": 1}
_PIXEL = {"type": "number", "minimum": 0, "description": "a pixel coordinate, 0 or more"}
_POINT = {
    "type": "array",
    "description": "a point [x, y] in the source frame's pixels",
    "prefixItems": [_PIXEL, _PIXEL],
    "minItems": 2,
    "maxItems": 2,
}
_UNIT = {"type": "number", "minimum": 0, "maximum": 1}
_CLASS_NAMES = {
    "type": "array",
    "description": "class names from the model's labels",
    "items": {"type": "string", "minLength": 1},
    "minItems": 1,
}

SOURCE_KINDS: dict[str, dict[str, Any]] = {
    "video": _PATH | {"description": "a video file (path)"},
    "images": _PATH | {"description": "a folder of images or a glob such as ./frames/*.jpg"},
    "rtsp": {
        "type": "string",
        "pattern": "^rtsps?://",
        "description": "an RTSP stream URL (rtsp://host/path)",
    },
    "rtmp": {
        "type": "string",
        "pattern": "^rtmps?://",
        "description": "an RTMP stream URL (rtmp://host/app/stream)",
    },
    "hls": {
        "type": "string",
        "pattern": "^https?://.+\\.m3u8(\\?.*)?$",
        "description": "an HLS playlist URL (http(s)://…/index.m3u8)",
    },
    "usb": {
        "oneOf": [{"type": "string", "pattern": "^/dev/video[0-9]+$"}, {"type": "integer"}],
        "description": "a camera device such as /dev/video0 (or its index, 0)",
    },
}

SINK_KINDS: dict[str, dict[str, Any]] = {
    "jsonl": _PATH | {"description": "a file that gets one JSON line per processed frame"},
    "video": _PATH | {"description": "an annotated video file a browser can play (.mp4/.webm)"},
    "images": _PATH | {"description": "a folder that gets each processed frame with overlays"},
    "mqtt": {
        "type": "object",
        "description": "an MQTT broker: {url: mqtt://host:1883, topic: …}",
        "properties": {
            "url": {
                "type": "string",
                "pattern": "^mqtts?://",
                "description": "the broker, mqtt://host[:port] (mqtts:// for TLS)",
            },
            "topic": {"type": "string", "minLength": 1, "description": "the topic events go to"},
            "qos": {"enum": [0, 1, 2], "description": "MQTT quality of service, 0, 1 or 2"},
        },
        "required": ["url", "topic"],
        "additionalProperties": False,
    },
    "webhook": {
        "type": "string",
        "pattern": "^https?://",
        "description": "an http(s):// URL that gets each event as a JSON POST",
    },
    "appliance": {
        "oneOf": [{"const": True}, {"type": "string", "pattern": "^https?://"}],
        "description": (
            "the appliance's live stream: true for the appliance this pipeline runs on "
            "or is enrolled with, or its http(s):// URL"
        ),
    },
}

ZONE_KINDS: dict[str, dict[str, Any]] = {
    "polygon": {
        "type": "array",
        "description": "at least 3 points [x, y]; objects enter, exit and dwell in it",
        "items": _POINT,
        "minItems": 3,
    },
    "line": {
        "type": "array",
        "description": "exactly 2 points [x, y]; objects cross it in or out",
        "items": _POINT,
        "minItems": 2,
        "maxItems": 2,
    },
}

STAGE_KINDS: dict[str, dict[str, Any]] = {
    "filter": {
        "type": "object",
        "description": "keep only some detections: {classes: [...], conf: 0.5}",
        "properties": {
            "classes": _CLASS_NAMES,
            "conf": _UNIT | {"description": "the lowest confidence kept, 0..1"},
        },
        "minProperties": 1,
        "additionalProperties": False,
    },
    "classify": {
        "type": "object",
        "description": "a classifier run on the detector's crops: {model: …, classes: [...]}",
        "properties": {
            "model": _PATH | {"description": "the classifier: a registry ref or a model file"},
            "classes": _CLASS_NAMES
            | {"description": "the detector's classes whose crops are classified (default: all)"},
            "conf": _UNIT | {"description": "the lowest top-1 confidence kept, 0..1"},
        },
        "required": ["model"],
        "additionalProperties": False,
    },
}


def _one_of_kinds(
    kinds: dict[str, dict[str, Any]], what: str, extra: dict[str, Any]
) -> dict[str, Any]:
    """An object with exactly one kind key, plus the ``extra`` keys any kind may have."""
    return {
        "type": "object",
        "description": f"{what}: one of {', '.join(kinds)}",
        "properties": kinds | extra,
        "additionalProperties": False,
        "oneOf": [{"required": [kind]} for kind in kinds],
    }


PIPELINE_SCHEMA: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": SCHEMA_ID,
    "title": "AHOY pipeline",
    "description": "One file takes a model to inference on streams: sources in, sinks out.",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "the pipeline's name"},
        "model": _PATH
        | {
            "description": (
                "the detector: a registry ref (name@stage or name@version) "
                "or a path to a .onnx, .rknn or .engine file"
            )
        },
        "backend": {
            "enum": ["auto", "onnxruntime", "tensorrt", "rknn"],
            "description": "the inference backend (default auto: from the model file and host)",
        },
        "sources": {
            "type": "array",
            "description": "the streams to run on, e.g. [{video: ./yard.mp4}]",
            "items": _one_of_kinds(
                SOURCE_KINDS,
                "a source",
                {"name": {"type": "string", "minLength": 1, "description": "the stream's name"}},
            ),
            "minItems": 1,
        },
        "sample": {
            "type": "object",
            "description": "which frames to process: {every: 4} runs every 4th frame",
            "properties": {
                "every": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "process every n-th frame (1: all of them)",
                }
            },
            "additionalProperties": False,
        },
        "track": {
            "enum": ["bytetrack", False],
            "description": "the tracker: bytetrack, or false for none",
        },
        "thresholds": {
            "type": "object",
            "description": "override the model's own: {conf: 0.25, iou: 0.7, max_det: 300}",
            "properties": {
                "conf": _UNIT | {"description": "the lowest detection confidence kept, 0..1"},
                "iou": _UNIT | {"description": "the NMS overlap above which boxes merge, 0..1"},
                "max_det": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "the most detections kept per frame",
                },
            },
            "additionalProperties": False,
        },
        "stages": {
            "type": "array",
            "description": "steps after the detector, in order: filter, classify",
            "items": _one_of_kinds(STAGE_KINDS, "a stage", {}),
        },
        "zones": {
            "type": "array",
            "description": "named regions: [{name: gate, line: [[x, y], [x, y]]}]",
            "items": _one_of_kinds(
                ZONE_KINDS,
                "a zone",
                {
                    "name": {
                        "type": "string",
                        "minLength": 1,
                        "description": "the zone's name, unique in the file",
                    },
                    "classes": _CLASS_NAMES
                    | {"description": "the classes the zone counts (default: all)"},
                },
            )
            | {"required": ["name"]},
        },
        "sinks": {
            "type": "array",
            "description": "where results go, e.g. [{jsonl: ./out/detections.jsonl}]",
            "items": _one_of_kinds(SINK_KINDS, "a sink", {}),
            "minItems": 1,
        },
    },
    "required": ["model", "sources", "sinks"],
    "additionalProperties": False,
}
