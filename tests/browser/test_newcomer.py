"""The issue's acceptance test, end to end in a real browser against a real appliance:
a newcomer imports a COCO dataset, fixes labels in the studio, a reviewer approves,
a version is committed, exported as YOLO and re-imported identically.

    COCO (made here) ──import-coco──> v1 ──studio: fix one image──> submitted
        ──reviewer approves──> v2 (only approved) ──export --format yolo──> folder
        ──import-yolo into a new dataset──> v1 of "again" == v2, image for image, box for box
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.browser.conftest import Watch, log_in, shot, watched_tab

pytestmark = pytest.mark.browser

WS = "default"
NAME = "shapes"
AGAIN = "again"
REVIEWER, REVIEWER_PASSWORD = "rex", "rex-reviews-carefully"
SIZE = (640, 480)
#: COCO category ids on purpose not 0-based: the dataset's classes are 0, 1, 2 in id order.
CATEGORIES = [
    {"id": 1, "name": "square", "supercategory": "shape"},
    {"id": 2, "name": "circle", "supercategory": "shape"},
    {"id": 3, "name": "triangle", "supercategory": "shape"},
]
SQUARE, CIRCLE, TRIANGLE = 1, 2, 3
#: Per image, its shapes: (category, x, y, w, h) in pixels. One scene's circle is
#: labelled a square, and its triangle has no box at all: what the newcomer fixes.
SCENES = [
    [(SQUARE, 60, 50, 120, 120), (CIRCLE, 300, 200, 140, 140)],
    [(CIRCLE, 40, 260, 160, 160), (TRIANGLE, 380, 60, 180, 150)],
    [(SQUARE, 420, 300, 150, 120), (TRIANGLE, 80, 80, 160, 140), (CIRCLE, 260, 40, 100, 100)],
    [(CIRCLE, 80, 100, 160, 160), (SQUARE, 300, 280, 110, 110), (TRIANGLE, 460, 60, 140, 130)],
    [(SQUARE, 200, 150, 200, 180)],
    [(TRIANGLE, 60, 300, 200, 150), (CIRCLE, 420, 120, 150, 150)],
]
SHAPES = sum(len(s) for s in SCENES)
WRONG = 3  # the scene with the mislabelled circle and the unboxed triangle
WRONG_FILE = f"scene_{WRONG:02d}.png"
WRONG_ANN = 0  # its circle (an index into SCENES[WRONG]), annotated as a square
MISSING = 2  # its triangle, left out of the annotations altogether


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def draw_scene(path: Path, i: int, shapes: list[tuple[int, int, int, int, int]]) -> None:
    im = Image.new("RGB", SIZE, (30 + 25 * i, 60 + 10 * i, 90))
    draw = ImageDraw.Draw(im)
    for cat, x, y, w, h in shapes:
        box = (x, y, x + w - 1, y + h - 1)
        if cat == SQUARE:
            draw.rectangle(box, fill=(220, 50, 50))
        elif cat == CIRCLE:
            draw.ellipse(box, fill=(60, 110, 230))
        else:
            draw.polygon([(x + w // 2, y), (x, y + h - 1), (x + w - 1, y + h - 1)], (60, 200, 90))
    im.save(path)


def make_coco(root: Path) -> tuple[Path, Path, dict[str, str]]:
    """The images, annotations.json (with the deliberate mistakes) and each image's sha256."""
    images = root / "images"
    images.mkdir(parents=True)
    coco: dict[str, Any] = {"images": [], "annotations": [], "categories": CATEGORIES}
    digests = {}
    for i, shapes in enumerate(SCENES):
        name = f"scene_{i:02d}.png"
        draw_scene(images / name, i, shapes)
        digests[name] = hashlib.sha256((images / name).read_bytes()).hexdigest()
        coco["images"].append({"id": i + 1, "file_name": name, "width": 640, "height": 480})
        for k, (cat, x, y, w, h) in enumerate(shapes):
            if i == WRONG and k == MISSING:
                continue
            coco["annotations"].append(
                {
                    "id": 100 * (i + 1) + k,
                    "image_id": i + 1,
                    "category_id": SQUARE if (i == WRONG and k == WRONG_ANN) else cat,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
    annotations = root / "annotations.json"
    annotations.write_text(json.dumps(coco))
    return annotations, images, digests


def centre(shape: tuple[int, int, int, int, int]) -> tuple[float, float]:
    _, x, y, w, h = shape
    return (x + w / 2) / SIZE[0], (y + h / 2) / SIZE[1]


def corners(shape: tuple[int, int, int, int, int]) -> tuple[float, float, float, float]:
    _, x, y, w, h = shape
    return x / SIZE[0], y / SIZE[1], (x + w) / SIZE[0], (y + h) / SIZE[1]


def second_tab(browser: Any, watch: Watch) -> Any:
    """Another browser context (its own session), watched like the ``page`` fixture."""
    return watched_tab(browser, watch)


def at(page: Any, x: float, y: float) -> tuple[float, float]:
    p = page.evaluate("([x, y]) => window.__studio.toScreen(x, y)", [x, y])
    return p["x"], p["y"]


def drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()


def saved(page: Any) -> None:
    expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")


def label_docs(client: Any, ds: str, ref: int) -> dict[str, dict[str, Any]]:
    """A version's manifest rows by file name, each with its parsed label document."""
    rows = {r["filename"]: dict(r) for r in client.manifest(WS, ds, ref)}
    for row in rows.values():
        sha = row["label_sha256"]
        row["labels"] = json.loads(client.get_blob(WS, sha)) if sha else None
    return rows


def boxes(doc: dict[str, Any] | None) -> list[tuple[str, int, list[float]]]:
    """What a YOLO detect label file can hold: each object's type, class and box, in order."""
    return [(o["type"], o["class"], o["box"]) for o in (doc or {}).get("objects", [])]


def test_newcomer_imports_coco_fixes_labels_gets_approved_and_round_trips_yolo(
    page, browser, appliance, watch, tmp_path
):
    client = appliance.client
    # 1. The COCO dataset, imported with the CLI and committed as it came: v1.
    annotations, images, digests = make_coco(tmp_path / "coco")
    appliance.ahoy("dataset", "create", NAME, "--description", "shapes from COCO")
    r = appliance.ahoy_json(
        "dataset", "import-coco", str(annotations), "--images", str(images), "-d", NAME
    )
    assert (r["images"], r["annotations"], r["categories"]) == (6, SHAPES - 1, 3)
    v1 = appliance.ahoy_json("dataset", "commit", NAME, "-m", "imported from COCO")
    assert v1["number"] == 1
    schema = client.get_schema(WS, NAME)
    assert [c["name"] for c in schema["classes"]] == ["square", "circle", "triangle"]

    # 2. A reviewer; the admin who imported is the annotator.
    stdin = REVIEWER_PASSWORD + "\n"
    appliance.ahoy("user", "create", REVIEWER, "--password-stdin", stdin=stdin)
    appliance.ahoy("member", "set", REVIEWER, "reviewer")

    # 3. The newcomer opens the dataset, then the studio, then the wrong image.
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{WS}/datasets/{NAME}")
    page.get_by_test_id("studio-link").click()
    expect(page.get_by_test_id("item-path")).to_have_text("scene_00.png")
    page.locator(f'.queue-item[data-path="{WRONG_FILE}"] button').click()
    expect(page.get_by_test_id("item-path")).to_have_text(WRONG_FILE)
    saved(page)
    expect(page.get_by_test_id("object-list").locator(".object-row")).to_have_count(2)

    scene = SCENES[WRONG]
    assert (scene[WRONG_ANN][0], scene[MISSING][0]) == (CIRCLE, TRIANGLE)
    wrong_id = f"coco:{100 * (WRONG + 1) + WRONG_ANN}"
    page.keyboard.press("v")  # select: click the circle that says "square"
    page.mouse.click(*at(page, *centre(scene[WRONG_ANN])))
    assert page.evaluate("() => window.__studio.selectedId()") == wrong_id
    page.keyboard.press("2")  # the 2nd class, circle, given to the selected box
    page.keyboard.press("Escape")  # nothing selected: the next key only picks a class
    page.keyboard.press("3")
    page.keyboard.press("b")
    x0, y0, x1, y1 = corners(scene[MISSING])
    drag(page, at(page, x0, y0), at(page, x1, y1))  # the triangle nobody boxed
    expect(page.get_by_test_id("object-list").locator(".object-row")).to_have_count(3)
    saved(page)
    item = client.item(WS, NAME, WRONG_FILE)
    fixed = {o.get("id"): o for o in item["labels"]["objects"]}
    assert fixed[wrong_id]["class"] == 1  # circle now
    [drawn] = [o for o in fixed.values() if o["id"] != wrong_id and o["class"] == 2]
    expected = [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0]
    assert drawn["box"] == pytest.approx(expected, abs=0.01)  # within ~6 px of the shape
    shot(page, "newcomer-studio-fixed")
    page.get_by_test_id("submit").click()  # submitted, and on to the next image
    expect(page.get_by_test_id("studio-message")).to_contain_text(f"Submitted {WRONG_FILE}")
    row = page.locator(f'.queue-item[data-path="{WRONG_FILE}"]')
    expect(row).to_have_attribute("data-state", "submitted")

    # 4. The reviewer, in another browser session: approve, commit only approved work.
    with second_tab(browser, watch) as review:
        review.goto(f"{appliance.url}/console/")
        review.get_by_test_id("username").fill(REVIEWER)
        review.get_by_test_id("password").fill(REVIEWER_PASSWORD)
        review.get_by_test_id("login-submit").click()
        review.get_by_test_id("workspaces").wait_for()
        review.goto(f"{appliance.url}/console/#/ws/{WS}/datasets/{NAME}")
        review.get_by_test_id("review-link").click()
        expect(review.get_by_test_id("review-title")).to_have_text(f"Review: {WRONG_FILE}")
        expect(review.get_by_test_id("review-info")).to_contain_text("submitted · 3 objects")
        expect(review.get_by_test_id("annotator-stats")).to_contain_text("admin")
        shot(review, "newcomer-review")
        review.get_by_test_id("approve").click()
        expect(review.get_by_test_id("review-message")).to_have_text(f"Approved {WRONG_FILE}.")
        expect(review.get_by_test_id("reviewer-stats")).to_contain_text(REVIEWER)
        review.get_by_test_id("commit-message").fill("fixed scene 3 (reviewed)")
        review.get_by_test_id("only-approved").check()
        review.get_by_test_id("commit").click()
        link = review.get_by_test_id("commit-diff")
        expect(link).to_have_text(re.compile(r"v1 → v2"))
        link.click()
        expect(review.get_by_test_id("diff-summary")).to_have_text(
            "0 added, 0 removed, 1 modified, 5 unchanged."
        )
        change = review.get_by_test_id("change")
        expect(change).to_have_count(1)
        expect(change).to_have_attribute("data-filename", WRONG_FILE)
        expect(change).to_have_attribute("data-kind", "modified")
        expect(review.locator(".label-summary")).to_have_text("1 added, 1 reclassed")
        changes = review.get_by_test_id("object-changes")
        expect(changes).to_contain_text("added triangle")
        expect(changes).to_contain_text("reclassed square → circle")
        expect(review.get_by_test_id("side-new")).to_be_visible()
        shot(review, "newcomer-diff")

    assert client.item(WS, NAME, WRONG_FILE)["state"] == "approved"
    v2 = client.get_version(WS, NAME, 2)
    assert v2["parent"] == 1 and v2["created_by"] == f"user:{REVIEWER}"
    label_diff = client.diff(WS, NAME, 1, 2, labels=True)["labels"][WRONG_FILE]
    assert label_diff["summary"] == {
        "added": 1, "removed": 0, "moved": 0, "reclassed": 1, "unchanged": 1
    }  # fmt: skip

    # 5. v2 out as YOLO, into a new dataset, committed: the same data.
    out = tmp_path / "yolo"
    appliance.ahoy_json("dataset", "export", NAME, str(out), "-v", "2", "--format", "yolo")
    exported = {p.name: p for p in (out / "images").rglob("*.png")}
    assert {n: hashlib.sha256(p.read_bytes()).hexdigest() for n, p in exported.items()} == (
        digests
    )  # the bytes that were imported, not a re-encoding
    [label_file] = (out / "labels").rglob(WRONG_FILE.replace(".png", ".txt"))
    assert sorted(int(line.split()[0]) for line in label_file.read_text().splitlines()) == [
        0, 1, 2
    ]  # fmt: skip
    appliance.ahoy("dataset", "create", AGAIN)
    r = appliance.ahoy_json("dataset", "import-yolo", str(out), "-d", AGAIN)
    assert (r["images"], r["labelled"]) == (6, 6)
    appliance.ahoy("dataset", "commit", AGAIN, "-m", "re-imported from YOLO")

    # "Identically", checked through the API on the two committed versions:
    # - every image: same file name, same content sha256 (so the same bytes; the
    #   blob store verifies them on read) and the same split, since the split is a
    #   function of the content digest and both datasets use the default seed;
    # - every label: the same objects in the same order, each with the same type,
    #   class and box, compared as exact floats (YOLO writes repr(), which round
    #   trips bit for bit);
    # - the same class names, and the same per-class statistics.
    # Not compared, by design: what YOLO has no place for. The COCO-only extras
    # (object ids `coco:<ann id>`, attributes `coco.*`, the image record kept in
    # the document, the categories beside the schema), who saved each label and
    # when, and the review states. So the label documents' sha256 differ while
    # everything a detector trains on is equal.
    before, after = label_docs(client, NAME, 2), label_docs(client, AGAIN, 1)
    assert sorted(after) == sorted(before) == sorted(digests)
    for name, row in before.items():
        again = after[name]
        assert (again["sha256"], again["split"]) == (digests[name], row["split"]), name
        assert boxes(again["labels"]) == boxes(row["labels"]), name
    assert boxes(after[WRONG_FILE]["labels"])[WRONG_ANN][1] == 1  # the fix survived
    assert [c["name"] for c in client.get_schema(WS, AGAIN)["classes"]] == [
        "square", "circle", "triangle"
    ]  # fmt: skip

    def per_class(ds: str, ref: int) -> list[tuple[str, int, dict[str, int]]]:
        stats = client.label_stats(WS, ds, ref)
        return [(c["name"], c["objects"], c["per_split"]) for c in stats["per_class"]]

    assert per_class(AGAIN, 1) == per_class(NAME, 2)
    assert sum(n for _, n, _ in per_class(NAME, 2)) == SHAPES  # one drawn in the studio
