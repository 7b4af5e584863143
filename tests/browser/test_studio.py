"""The annotation studio and the review page in a real browser against a real
appliance: draw with the mouse, autosave, reload, undo/redo, a 1,000-box image,
conflicts, the review loop (submit, reject with a comment, fix, approve) and
commits whose diff shows the new boxes."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Watch, log_in, shot
from tests.browser.studio_seed import Annotations, Dataset, many_boxes, seed_unlabelled

pytestmark = pytest.mark.browser

_names = itertools.count()


@pytest.fixture
def dataset(appliance: Any, tmp_path: Path) -> Dataset:
    """A fresh dataset per test (the appliance is shared by the module)."""
    return seed_unlabelled(appliance.client, tmp_path, f"studio{next(_names)}")


@pytest.fixture
def annotations(appliance: Any, dataset: Dataset) -> Annotations:
    return Annotations(appliance.client, dataset)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def allow_console(watch: Watch, status: int) -> None:
    """The browser logs every refused request; these were expected (a 404, a 409)."""
    watch.errors[:] = [e for e in watch.errors if f"status of {status}" not in e]


def open_studio(page: Any, appliance: Any, ds: Dataset, path: str | None = None) -> None:
    query = f"?path={path.replace(' ', '%20').replace('/', '%2F')}" if path else ""
    page.goto(f"{appliance.url}/console/#/ws/{ds.ws}/datasets/{ds.name}/studio{query}")
    wait_loaded(page, path or ds.images[0])


def wait_loaded(page: Any, path: str) -> None:
    expect(page.get_by_test_id("item-path")).to_have_text(path)
    expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")


def saved(page: Any) -> None:
    expect(page.get_by_test_id("save-state")).to_have_attribute("data-state", "saved")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")


def drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    page.mouse.move(*mid, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()


def at(page: Any, x: float, y: float) -> tuple[float, float]:
    """The screen point of a normalized image point."""
    p = page.evaluate("([x, y]) => window.__studio.toScreen(x, y)", [x, y])
    return p["x"], p["y"]


def draw_box(page: Any, x0: float, y0: float, x1: float, y1: float) -> None:
    drag(page, at(page, x0, y0), at(page, x1, y1))


def rows(page: Any, n: int) -> None:
    """Wait until the object list shows ``n`` objects."""
    expect(page.get_by_test_id("object-list").locator(".object-row")).to_have_count(n)


def objects(page: Any) -> list[dict[str, Any]]:
    return list(page.evaluate("() => window.__studio.document().objects"))


def test_draw_a_box_it_autosaves_survives_a_reload_and_a_commit_shows_it(
    page, appliance, dataset, annotations
):
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{dataset.ws}/datasets/{dataset.name}")
    page.get_by_test_id("studio-link").click()
    first = dataset.images[0]
    wait_loaded(page, first)
    assert page.locator(f'.queue-item[data-path="{first}"]').get_attribute("data-state") == (
        "unlabelled"
    )

    draw_box(page, 0.2, 0.25, 0.5, 0.6)
    saved(page)
    doc = annotations.item(first)
    assert doc["state"] == "in_progress"
    [box] = doc["labels"]["objects"]
    assert box["type"] == "box" and box["class"] == 0 and box["id"]
    assert box["box"] == pytest.approx([0.35, 0.425, 0.3, 0.35], abs=0.01)
    assert doc["labels"]["size"] == [640, 480]

    page.reload()
    wait_loaded(page, first)
    assert objects(page) == [box | {"id": box["id"]}]
    assert page.get_by_test_id("object-list").locator(".object-row").count() == 1
    shot(page, "studio-boxes")

    page.goto(f"{appliance.url}/console/#/ws/{dataset.ws}/datasets/{dataset.name}/review")
    page.get_by_test_id("commit-message").fill("first box")
    assert not page.get_by_test_id("only-approved").is_checked()
    page.get_by_test_id("commit").click()
    link = page.get_by_test_id("commit-diff")
    expect(link).to_have_text(re.compile(r"v1 → v2"))
    link.click()
    change = page.locator(f'[data-testid="change"][data-filename="{first}"]')
    expect(change).to_have_attribute("data-kind", "modified")
    assert "1 added" in page.locator(".label-summary").first.inner_text()
    expect(page.get_by_test_id("object-changes")).to_contain_text("added cat")
    assert annotations.diff(1, 2)["labels"][first]["summary"]["added"] == 1
    shot(page, "studio-commit-diff")


def test_undo_redo_class_keys_and_copy_previous(page, appliance, dataset, annotations):
    log_in(page, appliance)
    open_studio(page, appliance, dataset)
    draw_box(page, 0.1, 0.1, 0.3, 0.3)
    page.keyboard.press("2")  # the new box is selected: it becomes a dog
    draw_box(page, 0.5, 0.5, 0.8, 0.9)
    assert [o["class"] for o in objects(page)] == [1, 1]  # the class stays picked
    page.keyboard.press("Control+z")
    assert len(objects(page)) == 1
    page.keyboard.press("Control+Shift+z")
    assert len(objects(page)) == 2
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert [o["class"] for o in objects(page)] == [0]  # before "2"
    page.keyboard.press("Control+Shift+z")
    saved(page)
    first = annotations.item(dataset.images[0])["labels"]["objects"]
    assert [o["class"] for o in first] == [1]

    page.keyboard.press("n")
    wait_loaded(page, dataset.images[1])
    page.keyboard.press("c")
    rows(page, 1)
    page.keyboard.press("ArrowLeft")  # at once: moving on saves first
    wait_loaded(page, dataset.images[0])
    page.keyboard.press("n")
    wait_loaded(page, dataset.images[1])
    copied = annotations.item(dataset.images[1])["labels"]["objects"]
    assert [o["box"] for o in copied] == [o["box"] for o in first]
    assert {o["id"] for o in copied}.isdisjoint({o["id"] for o in first})
    page.keyboard.press("Delete")  # nothing selected: nothing happens
    page.get_by_test_id("object-list").locator(".object-row button.link").first.click()
    page.keyboard.press("Delete")
    rows(page, 0)
    saved(page)
    assert annotations.item(dataset.images[1])["labels"]["objects"] == []


def test_polygon_keypoints_and_the_help_overlay(page, appliance, dataset, annotations):
    log_in(page, appliance)
    open_studio(page, appliance, dataset)
    page.keyboard.press("p")
    for x, y in [(0.2, 0.2), (0.4, 0.2), (0.4, 0.5), (0.2, 0.5)]:
        page.mouse.click(*at(page, x, y))
    page.keyboard.press("Enter")
    page.keyboard.press("k")
    page.keyboard.press("3")
    for x, y in [(0.6, 0.6), (0.7, 0.65)]:
        page.mouse.click(*at(page, x, y))
    page.keyboard.press("Enter")
    saved(page)
    polygon, keypoints = annotations.item(dataset.images[0])["labels"]["objects"]
    assert polygon["type"] == "polygon" and len(polygon["points"]) == 4
    assert polygon["points"][0] == pytest.approx([0.2, 0.2], abs=0.01)
    assert keypoints["type"] == "keypoints" and keypoints["class"] == 2
    assert [p[2] for p in keypoints["points"]] == [2, 2]
    x0, y0 = (
        keypoints["box"][0] - keypoints["box"][2] / 2,
        keypoints["box"][1] - keypoints["box"][3] / 2,
    )
    assert x0 < 0.6 and y0 < 0.6

    page.keyboard.press("?")
    help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_box).to_contain_text("Undo")
    expect(help_box.locator('tr[data-action="redo"]')).to_contain_text("Ctrl+Shift+Z")
    shot(page, "studio-help")
    help_box.locator('tr[data-action="fit"] button').click()
    page.keyboard.press("g")
    expect(help_box.locator('tr[data-action="fit"]')).to_contain_text("G")
    assert "g" in page.evaluate("() => JSON.parse(localStorage.getItem('ahoy.studio.keys')).fit")
    page.keyboard.press("Escape")
    expect(help_box).to_have_count(0)


def test_zoom_pan_and_a_skeleton_keep_coordinates_right(page, appliance, dataset, annotations):
    annotations.set_skeleton(1, ["head", "body", "tail"])
    log_in(page, appliance)
    open_studio(page, appliance, dataset)
    scale = "() => window.__studio.zoom()"
    before = page.evaluate(scale)
    page.mouse.move(*at(page, 0.5, 0.5))
    for _ in range(4):
        page.mouse.wheel(0, -100)
    zoomed = page.evaluate(scale)
    assert zoomed > before * 1.5
    centre = at(page, 0.5, 0.5)  # the point under the cursor stayed put
    assert abs(centre[0] - page.evaluate("() => window.__studio.toScreen(0.5, 0.5).x")) < 1
    page.keyboard.down("Space")
    drag(page, at(page, 0.5, 0.5), (centre[0] - 100, centre[1] - 50))
    page.keyboard.up("Space")
    assert len(objects(page)) == 0  # a pan draws nothing
    assert at(page, 0.5, 0.5)[0] == pytest.approx(centre[0] - 100, abs=2)
    draw_box(page, 0.45, 0.45, 0.55, 0.5)
    page.keyboard.press("k")
    page.keyboard.press("2")  # the box becomes a dog; dogs have a 3-point skeleton
    page.keyboard.press("Escape")  # clear the selection first
    for x, y in [(0.5, 0.4), (0.52, 0.45)]:
        page.mouse.click(*at(page, x, y))
    expect(page.get_by_test_id("hint")).to_contain_text('"tail"')
    page.keyboard.down("Shift")  # a hidden keypoint; the last one finishes the object
    page.mouse.click(*at(page, 0.54, 0.5))
    page.keyboard.up("Shift")
    rows(page, 2)
    saved(page)
    box, pose = annotations.item(dataset.images[0])["labels"]["objects"]
    assert box["box"] == pytest.approx([0.5, 0.475, 0.1, 0.05], abs=0.004)
    assert pose["class"] == 1 and [p[2] for p in pose["points"]] == [2, 2, 1]
    assert pose["points"][2][:2] == pytest.approx([0.54, 0.5], abs=0.004)
    page.keyboard.press("f")
    assert page.evaluate(scale) == pytest.approx(before)


def test_a_thousand_boxes_load_and_one_can_be_dragged(page, appliance, dataset, annotations):
    path = dataset.images[2]
    annotations.save(path, many_boxes(1000), None)
    log_in(page, appliance)
    open_studio(page, appliance, dataset, path)
    assert page.evaluate("() => window.__studio.objectCount()") == 1000
    assert page.evaluate("() => window.__studio.lastRenderMs()") >= 0  # measured, not judged
    expect(page.get_by_test_id("more-objects")).to_have_text(re.compile(r"^\+900 more"))
    assert page.get_by_test_id("object-list").locator(".object-row").count() == 100
    shot(page, "studio-1000-boxes")

    first = many_boxes(1000)["objects"][0]["box"]
    page.keyboard.press("v")
    drag(page, at(page, first[0], first[1]), at(page, first[0] + 0.05, first[1] + 0.04))
    assert page.evaluate("() => window.__studio.selectedId()") == "box-0000"
    saved(page)
    after = annotations.item(path)["labels"]["objects"]
    assert len(after) == 1000
    moved = next(o for o in after if o["id"] == "box-0000")
    assert moved["box"][:2] == pytest.approx([first[0] + 0.05, first[1] + 0.04], abs=0.005)
    assert moved["box"][2:] == pytest.approx(first[2:], abs=1e-4)
    untouched = next(o for o in after if o["id"] == "box-0500")
    assert untouched["box"] == pytest.approx(many_boxes(1000)["objects"][500]["box"], abs=1e-6)


def test_someone_elses_save_is_a_conflict_and_nothing_is_lost(
    page, appliance, dataset, annotations, watch
):
    path = dataset.images[0]
    log_in(page, appliance)
    open_studio(page, appliance, dataset, path)
    theirs = many_boxes(2, cls=2)
    annotations.save(path, theirs, None)  # while the page has the image open
    draw_box(page, 0.1, 0.1, 0.3, 0.3)
    expect(page.get_by_test_id("save-state")).to_have_text("Conflict — reload")
    assert len(objects(page)) == 1  # the edit is still here
    page.get_by_test_id("conflict-mine").click()
    saved(page)
    assert [o["class"] for o in annotations.item(path)["labels"]["objects"]] == [0]
    allow_console(watch, 409)


def test_prelabel_without_a_model_says_so_and_proposals_render(
    page, appliance, dataset, annotations, watch
):
    path = dataset.images[1]
    doc = many_boxes(1)
    doc["objects"][0]["attributes"] = {"proposal": True, "score": 0.8, "note": "kept"}
    doc["objects"].append({"type": "box", "class": 1, "box": [0.7, 0.7, 0.1, 0.1], "id": "x"})
    annotations.save(path, doc, None)
    log_in(page, appliance)
    open_studio(page, appliance, dataset, path)
    expect(page.get_by_test_id("prelabel-none")).to_contain_text("train or register a model")
    expect(page.get_by_test_id("prelabel")).to_have_count(0)  # nothing to pick: no button

    expect(page.get_by_test_id("accept")).to_have_count(1)
    page.get_by_test_id("accept").click()
    saved(page)
    accepted, other = annotations.item(path)["labels"]["objects"]
    assert accepted["attributes"] == {"score": 0.8, "note": "kept"}  # only `proposal` went
    assert other["id"] == "x"


def test_review_reject_with_comment_fix_approve_and_commit_only_approved(
    page, appliance, dataset, annotations
):
    done, other = dataset.images[3], dataset.images[2]
    annotations.save(other, many_boxes(1), None)  # labelled, never approved
    log_in(page, appliance)
    open_studio(page, appliance, dataset, done)
    draw_box(page, 0.3, 0.3, 0.9, 0.95)
    saved(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("item-panel")).to_contain_text("submitted")

    page.goto(f"{appliance.url}/console/#/ws/{dataset.ws}/datasets/{dataset.name}/review")
    expect(page.get_by_test_id("review-title")).to_have_text(f"Review: {done}")
    page.keyboard.press("r")
    expect(page.get_by_test_id("review-message")).to_contain_text("needs a comment")
    page.get_by_test_id("review-comment-input").fill("the box is far too loose")
    page.get_by_test_id("reject").click()
    expect(page.get_by_test_id("review-message")).to_contain_text("Rejected")
    expect(page.get_by_test_id("reviewer-stats")).to_contain_text("admin")
    shot(page, "review")

    page.goto(
        f"{appliance.url}/console/#/ws/{dataset.ws}/datasets/{dataset.name}/studio"
        "?filter=my_rejected"
    )
    wait_loaded(page, done)
    expect(page.get_by_test_id("queue").locator(".queue-item")).to_have_count(1)
    expect(page.get_by_test_id("review-comment")).to_have_text("the box is far too loose")
    expect(page.get_by_test_id("item-comment")).to_contain_text("far too loose")
    page.keyboard.press("v")
    page.mouse.click(*at(page, 0.6, 0.6))
    assert page.evaluate("() => window.__studio.selectedId()")
    page.keyboard.press("Delete")
    page.keyboard.press("b")
    draw_box(page, 0.4, 0.4, 0.7, 0.7)
    saved(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("item-panel")).to_contain_text("submitted")

    page.goto(f"{appliance.url}/console/#/ws/{dataset.ws}/datasets/{dataset.name}/review")
    expect(page.get_by_test_id("review-title")).to_have_text(f"Review: {done}")
    page.keyboard.press("a")
    expect(page.get_by_test_id("review-message")).to_contain_text("Approved")
    assert annotations.item(done)["state"] == "approved"
    page.get_by_test_id("commit-message").fill("approved only")
    page.get_by_test_id("only-approved").check()
    page.get_by_test_id("commit").click()
    page.get_by_test_id("commit-diff").click()
    changes = page.get_by_test_id("change")
    expect(changes).to_have_count(1)
    expect(changes).to_have_attribute("data-filename", done)
    diff = annotations.diff(1, 2)
    assert [c["filename"] for c in diff["modified"]] == [done]  # not the unapproved one


#: The studio's pure modules, imported in the page and exercised there.
MODULE_CHECKS = (Path(__file__).parent / "studio_modules.js").read_text()


def test_document_history_autosave_and_keys_rules(page, appliance):
    log_in(page, appliance)
    out = page.evaluate(MODULE_CHECKS)
    assert out["ids"] == [True, True, True]
    canonical = out["canonical"]
    assert "by" not in canonical and "at" not in canonical  # the appliance stamps them
    assert canonical["tags"] == ["night"] and canonical["attributes"] == {"camera": "c1"}
    assert canonical["future"] == {"kept": True} and canonical["size"] == [640, 480]
    first, edge = canonical["objects"]  # the box wholly outside the image is dropped
    assert first["box"] == out["untouched"]  # untouched geometry is not even rounded
    assert first["attributes"] == {"occluded": True}
    assert edge["id"] == "edge" and edge["extra"] == 7
    assert edge["box"] == pytest.approx([0.925, 0.5, 0.15, 0.2])  # clamped to the image
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", out["fallbackId"]
    )
    [copy] = out["copied"]
    assert copy["id"] != "a" and copy["box"] == [0.5, 0.5, 0.1, 0.1]
    assert out["accepted"] == {"id": "p", "attributes": {"score": 0.9}}
    assert out["history"] == [True, [1, 2], True, [1], False, True, [1, 2]]

    assert out["flushed"] is True
    assert out["flushedAfterConflict"] is False
    assert out["conflictState"] == "conflict" and out["dirty"] is True
    assert out["overwritten"] is True
    assert out["sent"] == ["a" * 64, "b" * 64, "c" * 64]  # If-Match follows each save
    assert out["states"][-1] == "saved" and "conflict" in out["states"]

    assert out["combos"] == ["Ctrl+z", "Ctrl+Shift+z", "?", "ArrowRight", "1", "Ctrl+z"]
    assert out["lost"] == "next" and out["nextKeys"] == ["ArrowRight"]
