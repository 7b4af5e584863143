"""The studio must not change what nobody changed, and must say what really
happened: a click selects without rewriting geometry (an approved image stays
approved), an unchanged document is never sent; Submit refuses politely and moves
on; a toolbar click leaves Space to the canvas; the zoom keys and level; the
pre-label model picker and an honest "no proposals"."""

from __future__ import annotations

import hashlib
import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.browser.studio_seed import Annotations, Dataset, many_boxes, seed_unlabelled
from tests.browser.test_studio import (
    allow_console,
    at,
    drag,
    draw_box,
    expect,
    objects,
    open_studio,
    saved,
    wait_loaded,
)

pytestmark = pytest.mark.browser

_names = itertools.count()


@pytest.fixture
def dataset(appliance: Any, tmp_path: Path) -> Dataset:
    return seed_unlabelled(appliance.client, tmp_path, f"care{next(_names)}")


@pytest.fixture
def annotations(appliance: Any, dataset: Dataset) -> Annotations:
    return Annotations(appliance.client, dataset)


#: A box whose numbers are not on the studio's 6-decimal grid: any rewrite shows.
ODD = [0.3333333333, 0.4123456789, 0.2222222222, 0.1987654321]


def puts(page: Any) -> list[str]:
    """The label saves the page sends from now on."""
    sent: list[str] = []
    page.on("request", lambda r: r.method == "PUT" and "/labels/" in r.url and sent.append(r.url))
    return sent


def settle(page: Any) -> None:
    """Longer than the autosave's quiet time, then whatever is pending is flushed."""
    page.wait_for_timeout(1200)
    page.evaluate("() => window.__studio.flush()")


def test_a_click_on_a_box_changes_nothing_and_an_approved_image_stays_approved(
    page, appliance, dataset, annotations
):
    path = dataset.images[0]
    doc = many_boxes(1)
    doc["objects"][0]["box"] = list(ODD)
    first = annotations.save(path, doc, None)
    annotations.submit(path)
    annotations.review(path, "approve")
    log_in(page, appliance)
    open_studio(page, appliance, dataset, path)
    sent = puts(page)
    centre = at(page, ODD[0], ODD[1])

    page.keyboard.press("v")  # select: press on it (the select tool starts a drag)
    page.mouse.click(*centre)
    assert page.evaluate("() => window.__studio.selectedId()") == "box-0000"
    page.keyboard.press("b")  # box tool: a click on the selected box, on its handles
    page.mouse.click(*centre)
    page.keyboard.press("v")  # a press with a pixel of hand tremor is still a click
    drag(page, centre, (centre[0] + 1, centre[1] + 1))
    draw_box(page, 0.7, 0.7, 0.9, 0.9)  # an edit, undone before it is saved
    page.keyboard.press("Control+z")
    settle(page)

    assert sent == [], "an unchanged document was sent"
    saved(page)
    assert objects(page)[0]["box"] == ODD  # not even rounded
    item = annotations.item(path)
    assert (item["state"], item["label_sha256"]) == ("approved", first["label_sha256"])
    page.keyboard.press("n")  # moving on saves first: there is nothing to save
    wait_loaded(page, dataset.images[1])
    assert sent == []
    assert annotations.item(path)["state"] == "approved"


def test_submit_moves_on_and_is_refused_where_it_cannot_be(
    page, appliance, dataset, annotations, watch
):
    first, second = dataset.images[0], dataset.images[1]
    log_in(page, appliance)
    open_studio(page, appliance, dataset, first)
    submit = page.get_by_test_id("submit")
    expect(submit).to_be_disabled()  # nothing to submit yet
    draw_box(page, 0.2, 0.2, 0.5, 0.5)
    saved(page)
    expect(submit).to_be_enabled()
    submit.click()
    wait_loaded(page, second)  # on to the next image
    expect(page.get_by_test_id("studio-message")).to_contain_text(f"Submitted {first}")
    assert annotations.item(first)["state"] == "submitted"
    row = page.locator(f'.queue-item[data-path="{first}"]')
    expect(row).to_have_attribute("data-state", "submitted")

    page.keyboard.press("ArrowLeft")
    wait_loaded(page, first)
    expect(submit).to_be_disabled()
    expect(page.get_by_test_id("submit-why")).to_contain_text("Already submitted")
    annotations.review(first, "approve")
    page.reload()
    wait_loaded(page, first)
    expect(submit).to_be_disabled()
    expect(page.get_by_test_id("submit-why")).to_contain_text("Already approved")
    page.keyboard.press("Control+Enter")  # the keyboard says the same, no request
    expect(page.get_by_test_id("studio-message")).to_contain_text("Already approved")

    # Submitted elsewhere while this page shows it in progress: the appliance's
    # refusal is shown, not thrown (the page fixture fails on any page error).
    path = dataset.images[2]
    annotations.save(path, many_boxes(1), None)
    open_studio(page, appliance, dataset, path)
    annotations.submit(path)
    submit.click()
    expect(page.get_by_test_id("problem-title")).to_be_visible()
    expect(page.get_by_test_id("problem-detail")).to_contain_text("already submitted")
    assert page.get_by_test_id("item-path").inner_text() == path  # it did not move on
    allow_console(watch, 409)


def test_after_a_toolbar_click_space_drag_pans_and_the_zoom_keys_work(
    page, appliance, dataset, annotations
):
    path = dataset.images[0]
    annotations.save(path, many_boxes(1), None)
    box = many_boxes(1)["objects"][0]["box"]
    log_in(page, appliance)
    open_studio(page, appliance, dataset, path)
    sent = puts(page)
    zoom = "() => window.__studio.zoom()"
    fitted = page.evaluate(zoom)

    page.keyboard.press("v")
    page.mouse.click(*at(page, box[0], box[1]))
    assert page.evaluate("() => window.__studio.selectedId()") == "box-0000"
    page.locator('.studio-toolbar button[data-action="fit"]').click()
    page.locator('.studio-toolbar button[data-action="select"]').click()
    start = at(page, box[0], box[1])  # on the selected box
    page.keyboard.down("Space")
    drag(page, start, (start[0] + 120, start[1] + 60))
    page.keyboard.up("Space")
    assert at(page, box[0], box[1])[0] == pytest.approx(start[0] + 120, abs=2)  # panned
    assert at(page, box[0], box[1])[1] == pytest.approx(start[1] + 60, abs=2)
    assert objects(page)[0]["box"] == box  # the box did not move

    level = page.get_by_test_id("zoom-level")
    expect(level).to_have_text(f"{round(fitted * 100)}%")
    page.keyboard.press("+")
    zoomed = page.evaluate(zoom)
    assert zoomed == pytest.approx(fitted * 1.25)
    expect(level).to_have_text(f"{round(zoomed * 100)}%")
    page.keyboard.press("-")
    assert page.evaluate(zoom) == pytest.approx(fitted)
    page.keyboard.press("0")
    assert page.evaluate(zoom) == pytest.approx(1)
    expect(level).to_have_text("100%")
    page.locator('.studio-toolbar button[data-action="zoomIn"]').click()
    assert page.evaluate(zoom) == pytest.approx(1.25)
    page.keyboard.press("f")
    assert page.evaluate(zoom) == pytest.approx(fitted)
    settle(page)
    assert sent == []


def _register(appliance: Any, name: str, task: str) -> None:
    weights = f"not really weights: {name}".encode()
    digest = hashlib.sha256(weights).hexdigest()
    appliance.client.put_blob(None, digest, weights)
    appliance.client.register_model(name, task, digest)


def test_prelabel_offers_the_detect_models_and_says_when_nothing_was_proposed(
    page, appliance, dataset, annotations
):
    path = dataset.images[1]
    log_in(page, appliance)
    open_studio(page, appliance, dataset, path)
    none = page.get_by_test_id("prelabel-none")
    expect(none).to_contain_text("train or register a model")
    expect(page.get_by_test_id("prelabel")).to_have_count(0)

    _register(appliance, "cars-detector", "detect")
    _register(appliance, "cars-detector", "detect")  # v2
    appliance.client.promote_model("cars-detector", "1")
    _register(appliance, "scene-classifier", "classify")
    page.reload()
    wait_loaded(page, path)
    picker = page.get_by_test_id("prelabel-model")
    options = picker.locator("option")
    assert options.evaluate_all("os => os.map(o => o.value)") == [
        "cars-detector@production",
        "cars-detector@2",
    ]
    assert "(v1)" in options.first.inner_text()  # where the tag points

    bodies: list[Any] = []
    answer = {"proposed": 0, "skipped": 0, "replaced": 0, "changed": False}

    def fake(route: Any) -> None:  # the model itself is not what is tested here
        bodies.append(route.request.post_data_json)
        route.fulfill(json={"path": path, "label_sha256": None, "previous": None, **answer})

    page.route("**/prelabel/**", fake)
    picker.select_option("cars-detector@2")
    page.get_by_test_id("prelabel-score").fill("0.6")
    page.get_by_test_id("prelabel").click()
    message = page.get_by_test_id("studio-message")
    expect(message).to_contain_text("No proposals")
    expect(message).to_contain_text("cars-detector@2 found nothing scoring 0.6 or more")
    assert bodies == [{"model": "cars-detector@2", "min_score": 0.6}]

    answer.update(proposed=2, skipped=1)
    page.get_by_test_id("prelabel").click()
    added = re.compile(r"^2 proposals from cars-detector@2 added \(1 left out")
    expect(message).to_have_text(added)
    page.get_by_test_id("prelabel-score").fill("1.5")
    page.get_by_test_id("prelabel").click()
    expect(message).to_contain_text("a number from 0 to 1")
    assert len(bodies) == 2
