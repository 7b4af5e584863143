"""Evaluation, comparison and export from the console in a real browser against a
real appliance: Evaluate on the model page → the job → the evaluation page (per-class
table, PR curves, confusion matrix, an image with its errors drawn); two versions
compared with the winner of each class marked; Export ONNX → an onnx version that
names its source and its parity; a refused promotion shown with its reason."""

from __future__ import annotations

import time
from typing import Any

import pytest

from appliance.export import rknn, tensorrt
from tests.browser.conftest import log_in, shot
from tests.e2e.conftest import Appliance, client, commit_shapes
from tests.integration.yolo_dataset import CLASSES

pytestmark = pytest.mark.browser

WS = "default"
DATASET = "shapes"
MODEL = "shapes-eval"
#: the smallest runs that still train: two seeds, two versions to compare
TINY = {"epochs": 2, "imgsz": 64, "batch": 8, "workers": 0}


@pytest.fixture(scope="module")
def trained(appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("shapes")
    commit_shapes(appliance, root, train=24, val=8, name=DATASET)
    for seed in (1, 2):
        job = client(appliance).train(DATASET, name=MODEL, seed=seed, **TINY).wait(timeout=600)
        assert job["state"] == "succeeded", job
    return MODEL


def wait_done(appliance: Appliance, job_id: str, timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    job = client(appliance).get_job(None, job_id)
    while job["state"] not in {"succeeded", "failed", "cancelled"}:
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
        job = client(appliance).get_job(None, job_id)
    assert job["state"] == "succeeded", job
    return job


def evaluated(appliance: Appliance, ref: str) -> None:
    """``ref`` has an evaluation (made through the SDK when it has none yet)."""
    name, _, number = ref.partition("@")
    if not client(appliance).evaluations(name, number):
        job = client(appliance).evaluate(ref)
        assert client(appliance).wait_job(None, job["id"], timeout=300)["state"] == "succeeded"


def model_page(page: Any, appliance: Appliance, v: int | None = None) -> Any:
    suffix = f"?v={v}" if v else ""
    page.goto(f"{appliance.url}/console/#/ws/{WS}/models/{MODEL}{suffix}")
    page.get_by_test_id("lineage").wait_for()
    return lambda n: page.locator(f"[data-testid=model-version][data-number='{n}']")


def model_row(page: Any, number: int) -> Any:
    return page.locator(f"[data-testid=model-version][data-number='{number}']")


def submitted(page: Any, button: Any) -> Any:
    """Click ``button``; the job it posted, once the console is on its page."""
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/jobs")) as sent:
        button.click()
    page.wait_for_url("**/jobs/*")
    assert page.url.rsplit("/", 1)[1]
    return sent.value.post_data_json, page.url.rsplit("/", 1)[1]


def test_evaluate_from_the_model_page_to_the_evaluation_page(page, appliance, trained):
    log_in(page, appliance)
    row = model_page(page, appliance)
    assert row(1).get_by_test_id("format").inner_text() == "pt"
    body, job_id = submitted(page, row(1).get_by_test_id("evaluate"))
    assert body == {"kind": "evaluate", "params": {"model": f"{trained}@1"}}
    job = wait_done(appliance, job_id)
    evaluation_id = job["result"]["evaluation"]
    link = page.get_by_test_id("job-result").get_by_test_id("evaluation-link")
    assert link.get_attribute("href") == f"#/ws/{WS}/evaluations/{evaluation_id}"

    # from the model page: v1's evaluations, each linking to its page
    row = model_page(page, appliance, v=1)
    listed = page.locator(f"[data-testid=evaluation-row][data-id='{evaluation_id}']")
    assert f"{DATASET}@1 test" in listed.inner_text()
    listed.get_by_test_id("evaluation-link").click()
    page.get_by_test_id("per-class").wait_for()

    api = client(appliance).evaluation(evaluation_id)
    report = api["report"]
    assert page.get_by_test_id("eval-title").inner_text().startswith(f"Evaluation of {trained} v1")
    assert page.get_by_test_id("eval-title").get_by_test_id("format").inner_text() == "pt"
    assert page.get_by_test_id("eval-data").inner_text() == f"{DATASET}@1 test"
    assert f"{api['summary']['images']} image(s)" in page.get_by_test_id("eval-facts").inner_text()
    shown = page.get_by_test_id("eval-map50-95").get_attribute("data-value")
    assert float(shown) == pytest.approx(report["map50_95"])
    # COCO's twelve figures
    coco = page.get_by_test_id("eval-coco")
    for key, value in report["coco"].items():
        cell = coco.locator(f"[data-metric={key}]").inner_text()
        assert cell.endswith("—" if value is None else f"{value:.3f}"), (key, cell)

    # the per-class table: both classes, with the report's figures
    rows = page.get_by_test_id("class-row")
    assert [r.get_attribute("data-name") for r in rows.all()] == list(CLASSES)
    for r, c in zip(rows.all(), report["per_class"], strict=True):
        assert r.locator("[data-metric=ap50_95]").inner_text() == f"{c['ap50_95']:.3f}"
        assert r.locator("td").first.inner_text() == str(c["num_gt"])

    # the charts: a curve per class, the matrix with its thresholds, both modes
    curves = page.get_by_test_id("pr-chart").get_by_test_id("pr-curve")
    assert curves.count() == len(CLASSES)
    assert all(c.get_attribute("d").count("L") == 100 for c in curves.all())
    confusion = report["confusion"]
    assert page.get_by_test_id("cm-thresholds").inner_text() == (
        f"Confusion matrix at score ≥ {confusion['conf']} and IoU ≥ {confusion['iou']}"
    )
    cells = page.get_by_test_id("cm-cell")
    assert cells.count() == (len(CLASSES) + 1) ** 2
    drawn = [int(c.get_attribute("data-value")) for c in cells.all()]
    assert drawn == [v for row in confusion["counts"] for v in row]
    page.locator("[data-testid=cm-mode][data-mode=normalized]").click()
    assert page.get_by_test_id("confusion-matrix").get_attribute("data-mode") == "normalized"
    shares = [float(c.get_attribute("data-value")) for c in cells.all()]
    for i, counts in enumerate(confusion["counts"]):
        row_shares = shares[i * len(counts) : (i + 1) * len(counts)]
        assert sum(row_shares) == pytest.approx(1.0 if sum(counts) else 0.0)

    # the images with errors, worst first; one opens with its errors drawn over it
    errors = report["errors"]
    listed = page.get_by_test_id("error-row")
    assert [r.get_attribute("data-image") for r in listed.all()] == [e["image_id"] for e in errors]
    assert errors, "an undertrained model leaves errors to look at"
    first = errors[0]
    listed.first.get_by_test_id("error-open").click()
    figure = page.get_by_test_id("error-image")
    figure.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=error-image] img')?.naturalWidth > 0"
    )
    boxes = len(first["misses"]) + len(first["false_positives"]) + 2 * len(first["misclassified"])
    overlay = figure.get_by_test_id("overlay")
    page.wait_for_function(
        "n => document.querySelector('[data-testid=error-image] canvas')?.dataset.boxes === n",
        arg=str(boxes),
    )
    assert overlay.evaluate("c => c.width > 0 && c.height > 0")
    assert "Missed" in page.get_by_test_id("error-legend").inner_text()
    page.locator("[data-testid=cm-mode][data-mode=counts]").click()
    shot(page, "evaluation")


def test_compare_two_versions_from_the_model_page(page, appliance, trained):
    evaluated(appliance, f"{trained}@1")
    log_in(page, appliance)
    if not client(appliance).evaluations(trained, "2"):
        # not measured on the same data yet: the problem, with its hint
        page.goto(f"{appliance.url}/console/#/ws/{WS}/compare?model={trained}@1&model={trained}@2")
        page.get_by_test_id("problem").wait_for()
        assert "same data" in page.get_by_test_id("problem-detail").inner_text()
        assert "evaluate" in page.get_by_test_id("problem-hint").inner_text()
        job = client(appliance).evaluate(f"{trained}@2")
        assert client(appliance).wait_job(None, job["id"], timeout=300)["state"] == "succeeded"

    row = model_page(page, appliance)
    compare = page.get_by_test_id("compare")
    assert compare.is_disabled()
    row(1).get_by_test_id("compare-pick").check()
    assert compare.is_disabled()
    row(2).get_by_test_id("compare-pick").check()
    compare.click()
    page.get_by_test_id("comparison").wait_for()
    assert "/compare?" in page.url

    api = client(appliance).compare_models([f"{trained}@1", f"{trained}@2"])
    columns = page.get_by_test_id("compare-model")
    assert [c.get_attribute("data-ref") for c in columns.all()] == [f"{trained}@1", f"{trained}@2"]
    for column in columns.all():
        assert column.get_by_test_id("trained-on").inner_text() == f"trained on {DATASET}@1"
        assert column.get_by_test_id("format").inner_text() == "pt"
    data = page.get_by_test_id("compare-data").inner_text()
    assert f"{DATASET}@1" in data and "test split" in data
    rows = page.get_by_test_id("compare-class")
    assert [r.get_attribute("data-name") for r in rows.all()] == list(CLASSES)
    for r, c in zip(rows.all(), api["classes"], strict=True):
        cells = r.locator("td")
        marked = [i for i in range(cells.count()) if "★" in cells.nth(i).inner_text()]
        assert marked == c["winners"] and marked, "each class names its winner, with a mark"
        assert all("winner" in (cells.nth(i).get_attribute("class") or "") for i in marked)
    best = [api["models"][i] for i in api["winners"]]
    assert api["winner"] == api["winners"][0]
    winner = page.get_by_test_id("overall-winner")
    assert winner.get_attribute("data-ref") == ",".join(
        f"{m['model']}@{m['version']}" for m in best
    )
    tied = "Tied best overall" if len(best) > 1 else "Best overall"
    assert winner.inner_text().startswith(f"★ {tied}")
    shot(page, "compare")


def test_export_onnx_from_the_model_page_shows_its_parity(page, appliance, trained):
    log_in(page, appliance)
    row = model_page(page, appliance)
    body, job_id = submitted(page, row(1).get_by_test_id("export-onnx"))
    assert body == {"kind": "export", "params": {"model": f"{trained}@1", "format": "onnx"}}
    result = wait_done(appliance, job_id, timeout=600)["result"]
    number = result["model_version"]
    parity = result["parity"]
    # the shapes' test split is too small to decide parity on
    assert result["source_version"] == 1 and parity["verdict"] == "not measurable", result

    # the job page links to the version it registered
    page.get_by_test_id("job-result").get_by_test_id("model-link").click()
    page.wait_for_url(f"**/models/{trained}?v={number}")
    exported = page.locator(f"[data-testid=model-version][data-number='{number}']")
    exported.wait_for()
    assert exported.get_attribute("data-format") == "onnx"
    assert exported.get_by_test_id("format").inner_text() == "onnx"
    assert exported.get_by_test_id("export-of").inner_text() == "export of v1"
    badge = exported.get_by_test_id("parity")
    assert badge.get_attribute("data-passed") == "unmeasurable"
    text = badge.inner_text()
    assert "parity not measurable" in text
    delta = parity["delta_points"]
    assert float(badge.get_attribute("data-delta")) == pytest.approx(delta)
    assert f"{delta:+.2f} mAP50-95 pts (export − source)" in text
    assert f"{parity['images']} images, {parity['objects']} objects" in text
    # each row's figures name their own measurement
    measured = exported.get_by_test_id("measured").inner_text()
    assert measured == f"test · coco · {parity['images']} images · {DATASET}@1"
    assert (
        model_row(page, 1).get_by_test_id("measured").inner_text().startswith("val · ultralytics")
    )
    # an export is measured, not exported again
    assert exported.get_by_test_id("evaluate").is_enabled()
    assert exported.get_by_test_id("export-onnx").count() == 0
    # its parity measurement is one of its evaluations
    page.get_by_test_id("lineage").wait_for()
    assert page.get_by_test_id("lineage").get_attribute("data-number") == str(number)
    onnx_eval = result["parity"]["evaluations"][1]
    page.locator(f"[data-testid=evaluation-row][data-id='{onnx_eval}']").wait_for()
    shot(page, "model-exports")


def test_a_refused_promotion_shows_why(page, appliance, trained):
    """The parity gate's refusal (409 parity-failed), fed to the page: the export
    above passed, so the appliance itself would promote it."""
    problem = {
        "type": "urn:ahoy:problem:parity-failed",
        "title": "parity-failed",
        "status": 409,
        "detail": f"{trained}@3 (onnx export of v1) loses 4.20 mAP50-95 points",
        "hint": "promote the source weights, or export again",
    }
    log_in(page, appliance)
    page.route(
        f"**/v1/workspaces/{WS}/models/{trained}/tags/production",
        lambda route: route.fulfill(
            status=409, json=problem, headers={"Content-Type": "application/problem+json"}
        ),
    )
    model_page(page, appliance)
    page.get_by_test_id("promote").click()
    page.get_by_test_id("problem").wait_for()
    assert page.get_by_test_id("problem-title").inner_text() == "parity-failed"
    assert "loses 4.20" in page.get_by_test_id("problem-detail").inner_text()
    assert page.get_by_test_id("problem-hint").inner_text() == problem["hint"]
    assert not any("production" in t for t in page.get_by_test_id("tag").all_inner_texts())


@pytest.mark.skipif(
    not rknn.status()["available"], reason=f"{rknn.status().get('reason')} (run `make rknn`)"
)
def test_export_rknn_from_the_model_page(page, appliance, trained):
    log_in(page, appliance)
    row = model_page(page, appliance, 1)
    body, job_id = submitted(page, row(1).get_by_test_id("export-rknn"))
    assert body["params"] == {"model": f"{trained}@1", "format": "rknn"}
    result = wait_done(appliance, job_id, timeout=600)["result"]
    assert result["format"] == "rknn" and "verdict" in result["parity"]
    row = model_page(page, appliance, result["model_version"])
    exported = page.locator(f"[data-testid=model-version][data-number='{result['model_version']}']")
    exported.wait_for()
    assert exported.get_attribute("data-format") == "rknn"


def test_a_tensorrt_export_on_this_box_shows_why_not(page, appliance, trained):
    if tensorrt.status()["available"]:
        pytest.skip("this box has TensorRT and a GPU: the export would run")
    log_in(page, appliance)
    row = model_page(page, appliance, 1)
    row(1).get_by_test_id("export-tensorrt").click()
    page.get_by_test_id("problem").wait_for()
    assert "TensorRT" in page.get_by_test_id("problem-detail").inner_text()
    assert "/models/" in page.url, "nothing was queued: the page stays"
