"""Augmentation rules: the recipe, which files get copies, and how labels follow
the image (as points)."""

from __future__ import annotations

import pytest

from appliance.domain.augment import (
    copy_name,
    from_points,
    parse_recipe,
    plan,
    to_points,
)
from appliance.domain.labels.document import LabelDocument, LabelObject
from appliance.domain.manifest import ManifestRow, WorkingFile, freeze
from appliance.domain.split import SplitConfig
from appliance.errors import InvalidInput


def row(name: str, split: str, labelled: bool = True, role: str = "image") -> ManifestRow:
    return ManifestRow(name, "ab" * 32, "cd" * 32 if labelled else None, role, split)


def test_recipe_defaults_and_hash_follow_the_fields() -> None:
    r = parse_recipe(None)
    assert r.copies == 7 and r.seed == 0 and r.get("hflip") == 0.5
    assert parse_recipe({}).sha256 == r.sha256
    assert parse_recipe({"rotate": 11}).sha256 != r.sha256
    assert parse_recipe({"seed": 1}).sha256 != r.sha256


def test_a_bad_recipe_names_every_problem() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_recipe({"copies": 0, "rotate": 400, "warp": 1, "hue": "x"})
    text = err.value.message
    assert "copies" in text and "rotate" in text and "'warp'" in text and "hue" in text


def test_copy_names_sit_beside_the_original() -> None:
    assert copy_name("a/b/cat.jpg", 3) == "a/b/cat.aug3.jpg"
    assert copy_name("cat.png", 1) == "cat.aug1.png"
    assert copy_name("noext", 2) == "noext.aug2"


def test_only_labelled_train_images_get_copies() -> None:
    rows = [
        row("t1.jpg", "train"),
        row("t2.jpg", "train", labelled=False),
        row("v1.jpg", "val"),
        row("x1.jpg", "test"),
        row("notes.txt", "train", role="file"),
    ]
    planned = plan(rows, parse_recipe({"copies": 3}))
    assert [p.name for p in planned] == ["t1.aug1.jpg", "t1.aug2.jpg", "t1.aug3.jpg"]
    assert len({p.seed for p in planned}) == 3
    assert all(p.source.split == "train" for p in planned)


def test_augmenting_an_augmented_version_is_refused_on_a_name_clash() -> None:
    rows = [row("t1.jpg", "train"), row("t1.aug1.jpg", "train")]
    with pytest.raises(InvalidInput, match="already a file"):
        plan(rows, parse_recipe({"copies": 1}))


def test_the_same_recipe_gives_the_same_seeds() -> None:
    rows = [row("t1.jpg", "train")]
    a = plan(rows, parse_recipe({"seed": 5}))
    b = plan(rows, parse_recipe({"seed": 5}))
    c = plan(rows, parse_recipe({"seed": 6}))
    assert [p.seed for p in a] == [p.seed for p in b] != [p.seed for p in c]


DOC = LabelDocument(
    objects=(
        LabelObject("box", 0, box=(0.5, 0.5, 0.2, 0.4), id="b"),
        LabelObject("polygon", 1, points=((0.1, 0.1), (0.3, 0.1), (0.2, 0.3))),
        LabelObject(
            "keypoints", 2, box=(0.5, 0.5, 0.4, 0.4), points=((0.4, 0.4, 2), (0.6, 0.6, 0))
        ),
    ),
    size=(200, 100),
)


def test_points_that_do_not_move_give_the_same_labels() -> None:
    back = from_points(DOC, to_points(DOC, 200, 100), 200, 100, 0.3)
    assert [o.type for o in back.objects] == ["box", "polygon", "keypoints"]
    assert back.objects[0].box == pytest.approx((0.5, 0.5, 0.2, 0.4))
    assert back.objects[0].id == "b"
    flat = [v for p in back.objects[1].points for v in p]
    assert flat == pytest.approx([0.1, 0.1, 0.3, 0.1, 0.2, 0.3])
    assert back.objects[2].points[0] == pytest.approx((0.4, 0.4, 2))


def test_a_horizontal_flip_moves_boxes_and_keypoints() -> None:
    flipped = [(200 - x, y) for x, y in to_points(DOC, 200, 100)]
    back = from_points(DOC, flipped, 200, 100, 0.3)
    assert back.objects[0].box == pytest.approx((0.5, 0.5, 0.2, 0.4))
    assert back.objects[1].points[0] == pytest.approx((0.9, 0.1))
    assert back.objects[2].points[0] == pytest.approx((0.6, 0.4, 2))
    assert back.objects[2].points[1] == (0.0, 0.0, 0.0), "an absent keypoint stays absent"


def test_objects_pushed_out_are_dropped_and_boxes_clipped() -> None:
    shift = [(x + 0.45 * 200, y) for x, y in to_points(DOC, 200, 100)]
    back = from_points(DOC, shift, 200, 100, 0.3)
    # the box (x 80..120 → 170..210) keeps 75 % inside: clipped to the edge
    box = back.objects[0].box
    assert box is not None and box[0] + box[2] / 2 == pytest.approx(1.0)
    shift_more = [(x + 0.65 * 200, y) for x, y in to_points(DOC, 200, 100)]
    gone = from_points(DOC, shift_more, 200, 100, 0.3)
    assert [o.type for o in gone.objects] == ["polygon"], "less than 30 % left: dropped"


def test_a_size_change_is_recorded() -> None:
    assert from_points(DOC, to_points(DOC, 200, 100), 200, 100, 0.3).size == (200, 100)
    scaled = [(x * 2, y * 2) for x, y in to_points(DOC, 200, 100)]
    back = from_points(DOC, scaled, 400, 200, 0.3)
    assert back.size == (400, 200) and back.objects[0].box == pytest.approx((0.5, 0.5, 0.2, 0.4))


def test_a_pinned_split_wins_over_the_content_hash() -> None:
    cfg = SplitConfig((("train", 0.5), ("val", 0.5)))
    files = [WorkingFile(f"f{i}.jpg", f"{i:064x}", None, "image") for i in range(20)]
    hashed = {r.filename: r.split for r in freeze(files, cfg)}
    assert set(hashed.values()) == {"train", "val"}
    pinned = [WorkingFile(f.filename, f.sha256, None, "image", "test") for f in files]
    assert {r.split for r in freeze(pinned, cfg)} == {"test"}
