"""What the console says must be what is true: a job's log without terminal escape
codes and its progress in epochs (and batches within the epoch); label stats that
count every class (one without objects is the first warning) and link each warning
to its image; compare marking every tied winner; and one login for the browser, so a
link opened in a new tab does not ask to log in again."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import log_in, watched_tab
from tests.browser.studio_seed import Annotations, many_boxes, seed_unlabelled
from tests.e2e.conftest import Appliance

pytestmark = pytest.mark.browser

WS = "default"


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def _finished_job(appliance: Appliance) -> dict[str, Any]:
    """A real job's record (a dry-run gc), as the API shapes it."""
    c = appliance.client
    assert c is not None
    job = c.gc(WS, dry_run=True)
    deadline = time.monotonic() + 30
    while job["state"] not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = c.get_job(WS, job["id"])
    return dict(job)


#: What Ultralytics writes to a terminal: colours, bold, a cursor reset.
COLOURED = [
    "\x1b[34m\x1b[1mtrain: \x1b[0mScanning /data/labels/train... 24 images",
    "      9/40         0G      1.234      2.345      1.111  \x1b[K",
    "\x1b]8;;file:///out/run\x1b\\results\x1b]8;;\x1b\\ saved to \x1b[1m/out/run\x1b[0m",
]


def test_a_training_job_reads_plain_log_lines_and_its_epochs(page, appliance):
    real = _finished_job(appliance)
    job = {
        **real,
        "kind": "train",
        "state": "running",
        "finished_at": None,
        "result": None,
        "error": None,
        "params": {
            "dataset": "shapes",
            "version": "1",
            "model": "yolo11n-detect",
            "name": "shapes",
            "hyperparameters": {"epochs": 40, "imgsz": 64, "batch": 8},
        },
        # epoch 9 of 40 is running; an epoch here is one batch
        "progress": {"done": 1, "total": 1, "unit": "batch", "epoch": 9},
    }
    epochs = [
        {"seq": i, "kind": "epoch", "data": {"epoch": i, "epochs": 40, "map50": 0.1 * i}}
        for i in range(1, 9)
    ]
    lines = [{"seq": 100 + i, "kind": "log", "data": {"line": t}} for i, t in enumerate(COLOURED)]
    live = {"done": 3, "total": 12, "unit": "batch", "epoch": 10}

    def answer(route: Any) -> None:
        url = route.request.url
        if url.endswith("/events"):
            frame = f"event: progress\ndata: {json.dumps({'progress': live})}\n\n"
            route.fulfill(body=frame, headers={"Content-Type": "text/event-stream"})
        elif "kind=epoch" in url:
            route.fulfill(json={"events": epochs, "last": 8})
        elif "kind=log" in url:
            route.fulfill(json={"events": lines, "last": 102})
        else:
            route.fulfill(json=job)

    log_in(page, appliance)
    page.route(re.compile(rf"/v1/workspaces/{WS}/jobs/{real['id']}(/log\?.*|/events)?$"), answer)
    page.goto(f"{appliance.url}/console/#/ws/{WS}/jobs/{real['id']}")
    log = page.get_by_test_id("log")
    expect(log).to_contain_text("train: Scanning /data/labels/train")
    text = log.inner_text()
    assert "\x1b" not in text and "[34m" not in text and "]8;;" not in text
    assert "results saved to /out/run" in text
    assert page.get_by_test_id("epoch-counter").inner_text() == "epoch 8 / 40"
    # the live stream's progress: epoch 10 of 40, 3 of its 12 batches
    bar = page.get_by_test_id("progress")
    expect(page.get_by_test_id("progress-text")).to_have_text(" epoch 10 / 40 · batch 3 / 12")
    assert bar.get_attribute("max") == str(40 * 12)
    assert bar.get_attribute("value") == str(9 * 12 + 3)


def test_stats_show_a_class_without_objects_first_and_link_warnings_to_images(
    page, appliance, tmp_path: Path
):
    c = appliance.client
    ds = seed_unlabelled(c, tmp_path, "statsds")  # classes cat, dog, bird
    labels = Annotations(c, ds)
    twice = many_boxes(1, cls=0)
    twice["objects"].append({**twice["objects"][0], "id": "again"})  # a duplicate cat
    labels.save(ds.images[0], twice, None)
    labels.save(ds.images[1], many_boxes(2, cls=1), None)  # dogs; no bird anywhere
    c.commit(WS, ds.name, "cats and dogs")
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{WS}/datasets/{ds.name}/stats?ref=2")

    bird = page.locator('[data-testid=class-row][data-class="bird"]')
    expect(bird).to_have_attribute("data-objects", "0")
    expect(bird).to_contain_text("no objects")
    warnings = page.get_by_test_id("warning")
    expect(warnings.first).to_have_attribute("data-kind", "missing-class")
    expect(warnings.first).to_contain_text("'bird'")
    expect(page.get_by_test_id("warning-count")).to_contain_text("1 class has no objects")

    dup = page.locator("[data-testid=warning][data-kind=duplicate]")
    studio = dup.get_by_test_id("warning-studio")
    where = urlencode({"path": ds.images[0]})
    assert studio.get_attribute("href").endswith(f"/studio?{where}")
    dup.get_by_test_id("warning-file").click()
    preview = page.get_by_test_id("warning-preview")
    expect(preview).to_contain_text(f"{ds.images[0]} · ")
    expect(preview).to_contain_text("object 1: duplicate")
    assert "file=" in page.url
    page.reload()  # the link itself opens the image
    expect(page.get_by_test_id("warning-preview")).to_contain_text(ds.images[0])


def test_compare_marks_every_model_tied_for_best(page, appliance):
    def model(name: str, version: int) -> dict[str, Any]:
        return {
            "model": name,
            "version": version,
            "format": "pt",
            "tags": [],
            "trained_on": None,
            "evaluation": f"e-{name}",
            "map50": 0.8,
            "map50_95": 0.5,
        }

    fake = {
        "data": {"dataset": "shapes", "version": 1, "split": "test", "by": "coco", "images": 10},
        "models": [model("alpha", 1), model("beta", 2), {**model("gamma", 3), "map50_95": 0.4}],
        "classes": [{"class_id": 0, "name": "cat", "ap50_95": [0.5, 0.5, 0.4], "winners": [0, 1]}],
        "winner": 0,
    }
    page.route(re.compile(r"/model-comparison\?"), lambda route: route.fulfill(json=fake))
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{WS}/compare?model=alpha@1&model=beta@2&model=gamma@3")
    overall = page.get_by_test_id("compare-map50_95").locator("td")
    expect(overall).to_have_count(3)
    marked = [i for i in range(3) if "winner" in (overall.nth(i).get_attribute("class") or "")]
    assert marked == [0, 1]  # both tied, not only the first
    winner = page.get_by_test_id("overall-winner")
    expect(winner).to_have_text("★ Tied best overall: alpha v1, beta v2 (mAP50-95 0.500).")
    assert winner.get_attribute("data-ref") == "alpha@1,beta@2"


def test_a_link_opened_in_a_new_tab_keeps_the_session(page, appliance, browser, watch):
    log_in(page, appliance)
    link = f"{appliance.url}/console/#/ws/{WS}/models"
    second = page.context.new_page()  # the same browser: a link opened in a new tab
    second.goto(link)
    expect(second.get_by_test_id("current-user")).to_contain_text("admin")
    assert second.evaluate("sessionStorage.getItem('ahoy.token')") == page.evaluate(
        "sessionStorage.getItem('ahoy.token')"
    )
    assert page.context.cookies() == []  # no cookie carries it
    assert not [k for k in second.evaluate("Object.keys(localStorage)") if "token" in k]

    with watched_tab(browser, watch) as stranger:  # another browser profile: no session
        stranger.goto(link)
        stranger.get_by_test_id("login-form").wait_for()

    second.get_by_test_id("logout").click()  # out in one tab: out in all
    second.get_by_test_id("login-form").wait_for()
    page.get_by_test_id("login-form").wait_for()
    assert page.evaluate("sessionStorage.getItem('ahoy.token')") is None
