"""Counts and sizes as people read them (appliance/domain/wording.py)."""

from __future__ import annotations

import pytest

from appliance.domain.wording import plural, size

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("n", "word", "many", "expected"),
    [
        (0, "file", None, "0 files"),
        (1, "file", None, "1 file"),
        (2, "file", None, "2 files"),
        (1, "new blob", None, "1 new blob"),
        (2, "new blob", None, "2 new blobs"),
        (2, "entry", None, "2 entries"),
        (2, "key", None, "2 keys"),
        (2, "class", None, "2 classes"),
        (2, "batch", None, "2 batches"),
        (1, "working area", None, "1 working area"),
        (3, "new train copy", "new train copies", "3 new train copies"),
        (12_345, "image", None, "12,345 images"),
    ],
)
def test_plural(n: int, word: str, many: str | None, expected: str) -> None:
    assert plural(n, word, many) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1,023 bytes"),
        (1024, "1.0 KiB"),
        (4100, "4.0 KiB"),
        (10_765_846, "10.3 MiB"),
        (3 << 30, "3.0 GiB"),
        (5 << 50, "5.0 PiB"),
        (5 << 60, "5,120.0 PiB"),
    ],
)
def test_size(n: int, expected: str) -> None:
    assert size(n) == expected
