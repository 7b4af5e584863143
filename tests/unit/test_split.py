import hashlib

import msgspec
import pytest

from appliance.domain.split import SplitConfig, assign_split, bucket
from appliance.errors import InvalidInput
from appliance.web.dto import SplitIn

pytestmark = pytest.mark.unit

SHAS = [hashlib.sha256(f"file-{i}".encode()).hexdigest() for i in range(12)]
GOLDEN_SPLITS = [
    "train",
    "train",
    "val",
    "train",
    "train",
    "train",
    "val",
    "train",
    "train",
    "train",
    "train",
    "train",
]


def test_golden_split_of_a_fixed_file_set():
    assert [assign_split(SplitConfig(), s) for s in SHAS] == GOLDEN_SPLITS


def test_bucket_is_first_eight_bytes_of_seed_then_digest():
    expected = (
        int.from_bytes(hashlib.sha256(b"ahoy" + bytes.fromhex(SHAS[0])).digest()[:8], "big") / 2**64
    )
    assert bucket("ahoy", SHAS[0]) == expected == 0.38098008099260644


def test_seed_changes_assignment():
    other = SplitConfig(seed="other")
    assert [assign_split(other, s) for s in SHAS] != GOLDEN_SPLITS


def test_ratios_are_respected_on_many_files():
    shas = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(20000)]
    counts = {"train": 0, "val": 0, "test": 0}
    for s in shas:
        counts[assign_split(SplitConfig(), s)] += 1
    assert abs(counts["train"] / 20000 - 0.8) < 0.01
    assert abs(counts["test"] / 20000 - 0.1) < 0.01


def test_parse_round_trip():
    cfg = SplitConfig.parse("train=0.7, val=0.2, test=0.1", seed="s")
    assert cfg.ratios == (("train", 0.7), ("val", 0.2), ("test", 0.1))
    assert SplitConfig.from_dict(cfg.as_dict()) == cfg


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train=0.8,val=0.1", "add up to 0.9"),
        ("train=0.8,train=0.2", "repeat"),
        ("train0.8", "lacks '='"),
        ("train=x", "not a number"),
        ("train=1.5,val=-0.5", "outside 0..1"),
        ("", "at least one part"),
        ("my split=1", "not a plain word"),
    ],
)
def test_bad_split_specs(text, message):
    with pytest.raises(InvalidInput, match=message):
        SplitConfig.parse(text)


def test_renaming_files_keeps_every_split():
    from appliance.domain.manifest import WorkingFile, freeze

    files = [WorkingFile(f"img_{i}.jpg", s, None, "image") for i, s in enumerate(SHAS)]
    renamed = [WorkingFile(f"moved/renamed_{i}.png", s, None, "image") for i, s in enumerate(SHAS)]
    before = {r.sha256: r.split for r in freeze(files, SplitConfig())}
    after = {r.sha256: r.split for r in freeze(renamed, SplitConfig())}
    assert before == after


def test_the_api_takes_a_split_in_the_shape_it_answers_with():
    cfg = SplitConfig((("train", 0.7), ("val", 0.2), ("test", 0.1)), "s")
    assert msgspec.convert(cfg.as_dict(), SplitIn).config() == cfg
    older = {"ratios": {"train": 0.7, "val": 0.2, "test": 0.1}, "seed": "s"}
    assert msgspec.convert(older, SplitIn).config() == cfg
    assert msgspec.convert({"ratios": [["all", 1]]}, SplitIn).config() == SplitConfig((("all", 1),))
