"""Training from the console in a real browser against a real appliance: the box's
capacity, the training form rendered from the hyperparameter schema, a run followed
live to its artifacts, the model it registered with its lineage, promotion; a GPU
run refused on a CPU box, and a queued run shown in line and cancelled."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import log_in, shot
from tests.e2e.conftest import Appliance, client, commit_shapes

pytestmark = pytest.mark.browser

WS = "default"
DATASET = "shapes"
MODEL = "shapes-console"
#: The smallest run that still trains: what the form is filled with.
TINY = {"epochs": 2, "imgsz": 64, "batch": 8, "workers": 0}
RUN_MS = 240_000


@pytest.fixture(scope="module")
def shapes(appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("shapes")
    commit_shapes(appliance, root, train=24, val=8, name=DATASET, split=None)
    return DATASET


def wait_state(appliance: Appliance, job_id: str, states: set[str], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    job = client(appliance).get_job(None, job_id)
    while job["state"] not in states and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client(appliance).get_job(None, job_id)
    assert job["state"] in states, job
    return job


def fill_tiny(page: Any, **extra: Any) -> None:
    for name, value in {**TINY, **extra}.items():
        field = page.get_by_test_id(f"hp-{name}")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(str(value))
        else:
            field.fill(str(value))


def test_capacity_shows_the_probe_reading_and_refreshes(page, appliance):
    cap = client(appliance).capacity()
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/capacity")
    panel = page.get_by_test_id("capacity")
    panel.wait_for()
    assert panel.get_by_test_id("cap-cores").inner_text() == str(cap["reading"]["cores"])
    assert panel.get_attribute("data-probe") == cap["probe"]
    assert panel.get_by_test_id("cap-worker").inner_text() == cap["worker"] == "running"
    assert "free of" in panel.get_by_test_id("cap-ram").inner_text()
    assert panel.locator("[data-testid=cap-ram] meter").count() == 1
    if cap["reading"]["gpus"]:
        assert panel.get_by_test_id("cap-gpu").count() == len(cap["reading"]["gpus"])
    else:
        no_gpu = panel.get_by_test_id("cap-no-gpu").inner_text()
        assert no_gpu == f"no GPU: {cap['reading']['gpu_note']}"
    # re-read every 2 s while shown
    first = panel.get_by_test_id("capacity-at").inner_text()
    page.wait_for_function(
        "t => document.querySelector('[data-testid=capacity-at]').textContent !== t",
        arg=first,
        timeout=6_000,
    )
    shot(page, "capacity")


def test_capacity_draws_each_gpu_with_its_memory_and_load(page, appliance):
    """The GPU branch, fed a reading with GPUs (this box may have none)."""
    cap = client(appliance).capacity()
    gib = 1024
    gpus = [
        {"index": 0, "name": "NVIDIA H100", "memory_total_mib": 80 * gib,
         "memory_free_mib": 60 * gib, "utilization": 37.0, "mig": []},
        {"index": 1, "name": "NVIDIA A100", "memory_total_mib": 40 * gib,
         "memory_free_mib": 40 * gib, "utilization": 0.0,
         "mig": [{"id": "1:0", "memory_mib": 10 * gib}]},
    ]  # fmt: skip
    fake = {**cap, "reading": {**cap["reading"], "gpus": gpus, "gpu_note": ""}}
    fake.update(running=1, queued=2, devices_in_use=["0"])
    page.route("**/v1/capacity", lambda route: route.fulfill(json=fake))
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/capacity")
    rows = page.get_by_test_id("cap-gpu")
    rows.first.wait_for()
    assert rows.count() == 2 and page.get_by_test_id("cap-no-gpu").count() == 0
    first = rows.nth(0)
    assert "NVIDIA H100" in first.inner_text()
    assert first.get_by_test_id("cap-gpu-memory").inner_text().strip() == (
        "60.0 GiB free of 80.0 GiB"
    )
    assert first.locator("[data-testid=cap-gpu-memory] meter").get_attribute("value") == str(
        20 * gib**3
    )
    assert first.get_by_test_id("cap-gpu-utilization").inner_text().strip() == "37% busy"
    assert "MIG: 1:0 (10240 MiB)" in rows.nth(1).inner_text()
    assert page.get_by_test_id("cap-running").inner_text() == "1"
    assert page.get_by_test_id("cap-queued").inner_text() == "2"
    assert "devices in use: 0" in page.get_by_test_id("cap-jobs").inner_text()


def test_train_from_the_form_live_to_the_model_and_its_lineage(page, appliance, shapes):
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{WS}/jobs")
    cap = client(appliance).capacity()
    page.get_by_test_id("capacity").wait_for()
    assert page.get_by_test_id("cap-cores").inner_text() == str(cap["reading"]["cores"])
    page.get_by_test_id("train-link").click()

    form = page.get_by_test_id("train-form")
    form.wait_for()
    assert page.get_by_test_id("dataset").input_value() == shapes
    versions = page.get_by_test_id("version").locator("option")
    assert [o.get_attribute("value") for o in versions.all()] == ["latest", "1"]
    groups = page.get_by_test_id("model").locator("optgroup")
    assert {"detect", "segment", "pose", "classify"} <= set(
        g.get_attribute("label") for g in groups.all()
    )
    assert page.get_by_test_id("model").input_value() == "yolo11n-detect"
    # the hyperparameter form comes from the schema: defaults, bounds, enums, booleans
    schema = next(k for k in client(appliance).job_kinds() if k["name"] == "train")
    props = schema["hyperparameters"]["properties"]
    epochs = page.get_by_test_id("hp-epochs")
    assert epochs.input_value() == str(props["epochs"]["default"])
    assert epochs.get_attribute("min") == str(props["epochs"]["minimum"])
    assert epochs.get_attribute("max") == str(props["epochs"]["maximum"])
    assert page.get_by_test_id("hp-imgsz").get_attribute("step") == "32"
    device = page.get_by_test_id("hp-device").locator("option")
    assert [o.get_attribute("value") for o in device.all()] == props["device"]["enum"]
    assert page.get_by_test_id("hp-deterministic").is_checked() is props["deterministic"]["default"]
    assert props["epochs"]["title"] in form.inner_text()

    fill_tiny(page)
    page.get_by_test_id("model-name").fill(MODEL)
    shot(page, "train-form")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/jobs")) as sent:
        page.get_by_test_id("train-submit").click()
    body = sent.value.post_data_json
    assert body["kind"] == "train"
    assert body["params"]["hyperparameters"] == TINY  # only what was changed
    assert body["params"]["name"] == MODEL and body["params"]["version"] == "latest"

    # the job page, followed live
    page.wait_for_url("**/jobs/*")
    job_id = page.url.rsplit("/", 1)[1]
    head = page.locator("header.page-head")
    head.get_by_test_id("state").wait_for()
    cores = client(appliance).get_job(None, job_id)["request"]["cpu_cores"]
    assert page.get_by_test_id("request").inner_text().startswith(f"{cores} core(s)")
    counter = page.get_by_test_id("epoch-counter")
    page.wait_for_function(
        "() => ['running', 'succeeded'].includes("
        "document.querySelector('header.page-head [data-testid=state]').textContent)",
        timeout=60_000,
    )
    shot(page, "job-live")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=epoch-counter]').dataset.epoch === '2'",
        timeout=RUN_MS,
    )
    assert counter.inner_text() == "epoch 2 / 2"
    loss = page.get_by_test_id("loss-chart")
    assert loss.locator("[data-testid=point][data-series=train]").count() == 2
    assert loss.locator("[data-testid=point][data-series=val]").count() == 2
    map_chart = page.get_by_test_id("map-chart")
    assert map_chart.locator("[data-testid=point][data-series=mAP50]").count() == 2
    page.wait_for_function(
        "() => document.querySelector('header.page-head [data-testid=state]')"
        ".textContent === 'succeeded'",
        timeout=RUN_MS,
    )
    recorded = [e["data"] for e in client(appliance).job_log(job_id, kind="epoch")]
    drawn = [
        float(p.get_attribute("data-y"))
        for p in loss.locator("[data-testid=point][data-series=train]").all()
    ]
    assert drawn == [pytest.approx(e["train_losses"]["box"]) for e in recorded]
    assert f"laying out {shapes}@1" in page.get_by_test_id("log").inner_text()

    # the artifacts, with the plots shown as images
    page.get_by_test_id("artifacts").wait_for()
    names = page.get_by_test_id("artifact").evaluate_all("rs => rs.map(r => r.dataset.name)")
    assert {"results.csv", "best.pt", "results.png"} <= set(names)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=plot][data-name=\"results.png\"]')"
        "?.naturalWidth > 0"
    )
    csv = page.locator("[data-testid=artifact][data-name='results.csv']")
    csv.get_by_test_id("view-text").click()
    assert page.get_by_test_id("artifact-text").inner_text().lstrip().startswith("epoch")
    page.locator("[data-testid=job-result]").wait_for()
    shot(page, "job-finished")

    # the model version it registered, and what made it
    page.get_by_test_id("job-result").get_by_test_id("model-link").click()
    lineage = page.get_by_test_id("lineage")
    lineage.wait_for()
    rows = page.get_by_test_id("model-version")
    assert [r.get_attribute("data-number") for r in rows.all()] == ["1"]
    manifest = client(appliance).get_version(None, shapes, "1")["manifest_hash"]
    assert lineage.get_by_test_id("lineage-dataset").inner_text() == f"{shapes}@1"
    href = lineage.get_by_test_id("lineage-dataset").get_attribute("href")
    assert href == f"#/ws/{WS}/datasets/{shapes}/versions/1"
    assert lineage.get_by_test_id("lineage-manifest").inner_text() == manifest
    assert lineage.get_by_test_id("lineage-run").inner_text() == job_id
    api_lineage = client(appliance).model_lineage(MODEL, "1")
    code = lineage.get_by_test_id("lineage-code").inner_text()
    assert "yolo11n-detect" in code and api_lineage["code"]["ultralytics"] in code
    assert "imgsz 64" in lineage.get_by_test_id("lineage-config").inner_text()
    files = lineage.get_by_test_id("lineage-files").inner_text()
    assert files.startswith(f"{api_lineage['data']['file_count']} (")
    shot(page, "model-lineage")

    # promote: the answer's tags are shown, and the appliance agrees
    page.get_by_test_id("promote").click()
    rows.first.get_by_test_id("tag").get_by_text("production").wait_for()
    # the rows redraw at once; the lineage panel (with the button) once it is read again
    page.locator("[data-testid=promote][disabled]").wait_for()
    assert page.get_by_test_id("promote").inner_text() == "In production"
    assert client(appliance).model(MODEL)["versions"][0]["tags"] == ["production"]

    page.goto(f"{appliance.url}/console/#/ws/{WS}/models")
    row = page.locator(f"[data-testid=model-row][data-name={MODEL}]")
    row.wait_for()
    assert row.get_by_test_id("tags").inner_text() == "production → v1"
    assert row.get_by_test_id("latest").inner_text() == "v1"
    shot(page, "models")


def test_a_gpu_run_on_this_box_is_refused_with_the_reason(page, appliance, shapes):
    has_gpu = bool(client(appliance).capacity()["reading"]["gpus"])
    before = len(list(client(appliance).list_jobs(None)))
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{WS}/train?dataset={shapes}")
    page.get_by_test_id("train-form").wait_for()
    fill_tiny(page, device="cuda")
    page.get_by_test_id("train-submit").click()
    if has_gpu:  # this box could run it: the run is admitted or queued instead
        page.wait_for_url("**/jobs/*")
        client(appliance).cancel_job(page.url.rsplit("/", 1)[1])
        return
    page.get_by_test_id("problem").wait_for()
    assert "no GPU" in page.get_by_test_id("problem-detail").inner_text()
    assert page.get_by_test_id("problem-hint").inner_text()
    assert "/train" in page.url
    assert len(list(client(appliance).list_jobs(None))) == before  # nothing was queued
    shot(page, "train-refused")


def test_a_queued_run_shows_its_place_in_line_and_is_cancelled(page, appliance, shapes):
    c = client(appliance)
    cores = c.capacity()["reading"]["cores"]
    hog = c.submit_job("box-benchmark", {"seconds": 8, "cores": cores})
    try:
        wait_state(appliance, hog["id"], {"running"})
        run = c.train(shapes, **TINY)
        log_in(page, appliance)
        page.goto(f"{appliance.url}/console/#/ws/{WS}/jobs")
        row = page.locator(f"[data-testid=job-row][data-id='{run.id}']")
        row.wait_for()
        assert row.get_attribute("data-state") == "queued"
        assert row.get_by_test_id("state").inner_text() == "queued"
        assert row.get_by_test_id("position").inner_text() == "#1"
        assert "core(s)" in row.get_by_test_id("admission").inner_text()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=cap-queued]')?.textContent === '1'"
        )
        shot(page, "jobs-queued")
        row.get_by_test_id("cancel").click()
        page.wait_for_function(
            "id => document.querySelector(`[data-testid=job-row][data-id='${id}']`)"
            "?.dataset.state === 'cancelled'",
            arg=run.id,
        )
        assert row.get_by_test_id("state").inner_text() == "cancelled"
        assert row.get_by_test_id("cancel").count() == 0
        assert c.get_job(None, run.id)["state"] == "cancelled"
    finally:
        c.cancel_job(hog["id"])


def test_augment_from_the_version_page_to_the_derived_version(page, appliance, shapes):
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{WS}/datasets/{shapes}/versions/1")
    assert page.get_by_test_id("version-facts").inner_text().count("Derived from") == 1
    panel = page.get_by_test_id("augment")
    panel.locator("summary").click()
    page.locator("#augment-copies").fill("2")
    page.locator("#augment-into").fill("shapes-console-aug")
    shot(page, "augment-form")
    page.get_by_test_id("augment-submit").click()
    page.wait_for_url("**/jobs/*")
    job = wait_state(appliance, page.url.rsplit("/", 1)[1], {"succeeded", "failed"}, 120)
    assert job["state"] == "succeeded", job
    assert job["result"]["dataset"] == "shapes-console-aug" and job["result"]["copies"] > 0
    link = page.get_by_test_id("job-result").get_by_test_id("version-link")
    assert link.inner_text() == "shapes-console-aug v1"
    link.click()
    page.wait_for_url("**/datasets/shapes-console-aug/versions/1")
    derived = page.get_by_test_id("derived-from")
    derived.wait_for()
    assert f"augment of {shapes} v1" in derived.inner_text()
    shot(page, "augmented-version")
    derived.get_by_role("link").click()
    page.wait_for_url(f"**/datasets/{shapes}/versions/1")
