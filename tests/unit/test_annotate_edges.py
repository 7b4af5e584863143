"""The annotation edges' pure parts: If-Match both ways, and the SDK's URLs."""

from __future__ import annotations

import pytest

from appliance.errors import InvalidInput
from appliance.sdk import Client
from appliance.sdk.annotate import ANY as SDK_ANY
from appliance.sdk.annotate import _if_match
from appliance.services.label_edit import ANY
from appliance.web.routes.annotate import _annotator, etag, expected

pytestmark = pytest.mark.unit

SHA = "ab" * 32


# fmt: off
IF_MATCH = [
    # header              what the save expects
    (None,                ANY),
    ("*",                 ANY),
    ('"none"',            None),
    ("none",              None),
    (f'"{SHA}"',          SHA),
    (f'W/"{SHA}"',        SHA),
    (SHA,                 SHA),
]
# fmt: on


@pytest.mark.parametrize(("header", "expect"), IF_MATCH)
def test_if_match_header_to_expectation(header, expect):
    assert expected(header) == expect


@pytest.mark.parametrize("header", ["yesterday", '"abc"', SHA.upper(), '"*"x'])
def test_a_malformed_if_match_is_refused_with_a_hint(header):
    with pytest.raises(InvalidInput) as info:
        expected(header)
    assert "ETag" in info.value.hint


def test_etags_round_trip_through_the_sdk():
    assert etag(None) == '"none"' and etag(SHA) == f'"{SHA}"'
    assert _if_match(SDK_ANY) == {}
    assert expected(_if_match(None)["If-Match"]) is None
    assert expected(_if_match(SHA)["If-Match"]) == SHA


def test_annotator_filter():
    assert _annotator("me", "user:ann") == "user:ann"
    assert _annotator("rex", "user:ann") == "user:rex"
    assert _annotator("device:cam-1", "user:ann") == "device:cam-1"
    assert _annotator(None, "user:ann") is None


def test_sdk_file_urls_keep_slashes_and_encode_the_rest():
    c = Client("http://box:8470", "t", workspace="lab")
    url = c._file(None, "signs", "labels", "night shots/#1.jpg")
    assert url == "/v1/workspaces/lab/datasets/signs/labels/night%20shots/%231.jpg"
