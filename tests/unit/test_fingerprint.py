"""Golden values: these literals must never change, on any catalog adapter."""

import hashlib

import pytest

from appliance.domain.manifest import ManifestRow, WorkingFile, fingerprint, freeze
from appliance.domain.split import SplitConfig

pytestmark = pytest.mark.unit

ROWS = [
    ManifestRow("images/b.jpg", "a" * 64, None, "image", "train"),
    ManifestRow("images/a.jpg", "b" * 64, "c" * 64, "image", "val"),
    ManifestRow("Ünïcode/z.txt", "d" * 64, None, "file", "test"),
]

# Written by hand from the spec: rows sorted by code point ("I" < "Ü"),
# keys sorted, no whitespace, UTF-8 (not \u escapes).
CANONICAL = (
    '[{"filename":"images/a.jpg","label_sha256":"' + "c" * 64 + '","role":"image",'
    '"sha256":"' + "b" * 64 + '","split":"val"},'
    '{"filename":"images/b.jpg","label_sha256":null,"role":"image",'
    '"sha256":"' + "a" * 64 + '","split":"train"},'
    '{"filename":"Ünïcode/z.txt","label_sha256":null,"role":"file",'
    '"sha256":"' + "d" * 64 + '","split":"test"}]'
)
GOLDEN = "0859ade01185bd3278ee3457f2d4592c63268b30fa72bf98d22361df0880b90b"


def test_golden_manifest_hash():
    assert hashlib.sha256(CANONICAL.encode("utf-8")).hexdigest() == GOLDEN
    assert fingerprint(ROWS) == GOLDEN


def test_order_of_input_does_not_matter():
    assert fingerprint(list(reversed(ROWS))) == GOLDEN


def test_empty_manifest_is_hash_of_empty_array():
    assert fingerprint([]) == hashlib.sha256(b"[]").hexdigest()


def test_code_point_order_not_locale_order():
    # 'Z' (U+005A) sorts before 'a' (U+0061) by code point
    rows = [
        ManifestRow("a", "1" * 64, None, "file", "train"),
        ManifestRow("Z", "2" * 64, None, "file", "train"),
    ]
    assert (
        fingerprint(rows)
        == hashlib.sha256(
            (
                '[{"filename":"Z","label_sha256":null,"role":"file","sha256":"'
                + "2" * 64
                + '","split":"train"},{"filename":"a","label_sha256":null,"role":"file","sha256":"'
                + "1" * 64
                + '","split":"train"}]'
            ).encode()
        ).hexdigest()
    )


@pytest.mark.parametrize("change", ["sha256", "label_sha256", "split", "filename", "role"])
def test_any_field_change_changes_the_hash(change):
    row = ROWS[0]
    values = {**row.as_dict(), change: ("e" * 64 if "sha" in change else "other")}
    assert fingerprint([ManifestRow(**values), *ROWS[1:]]) != GOLDEN


def test_freeze_assigns_splits_and_sorts():
    files = [WorkingFile("b", "a" * 64, None, "file"), WorkingFile("a", "a" * 64, None, "file")]
    rows = freeze(files, SplitConfig())
    assert [r.filename for r in rows] == ["a", "b"]
    assert rows[0].split == rows[1].split  # same bytes, same split
