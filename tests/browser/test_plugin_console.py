"""The training form with a second model plugin installed (a real distribution on
the path of `ahoy serve`): picking the plugin's model swaps the hyperparameter form
for that plugin's schema, the run trains, and the catalog's form comes back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import log_in, shot
from tests.e2e.conftest import Appliance
from tests.plugins import plugged_appliance, seed_boxes

pytestmark = pytest.mark.browser

WS = "default"
PLUGIN_MODEL = "testplugin/tiny"


@pytest.fixture(scope="module")
def appliance(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    with plugged_appliance(tmp_path_factory) as app:
        yield app


@pytest.fixture(scope="module")
def boxes(appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> str:
    return seed_boxes(appliance, tmp_path_factory)


def test_the_form_follows_the_chosen_model_s_plugin(page: Any, appliance: Appliance, boxes: str):
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{WS}/jobs")
    page.get_by_test_id("train-link").click()
    page.get_by_test_id("train-form").wait_for()
    assert page.get_by_test_id("hp-imgsz").count() == 1  # the catalog's form first

    page.get_by_test_id("model").select_option(PLUGIN_MODEL)
    page.get_by_test_id("hp-fail").wait_for()
    assert page.get_by_test_id("hp-imgsz").count() == 0
    assert page.get_by_test_id("hp-epochs").input_value() == "2"  # the plugin's default
    assert page.get_by_test_id("hp-epochs").get_attribute("max") == "20"
    page.get_by_test_id("hp-epochs").fill("3")
    shot(page, "train-form-plugin")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/jobs")) as sent:
        page.get_by_test_id("train-submit").click()
    body = sent.value.post_data_json
    assert body["params"]["model"] == PLUGIN_MODEL
    assert body["params"]["hyperparameters"] == {"epochs": 3}

    page.wait_for_url("**/jobs/*")
    page.wait_for_function(
        "() => document.querySelector('header.page-head [data-testid=state]')"
        "?.textContent === 'succeeded'",
        timeout=60_000,
    )
    job_id = page.url.rsplit("/", 1)[1]
    assert appliance.client is not None
    assert appliance.client.get_job(None, job_id)["result"]["plugin"] == "testplugin"

    page.go_back()
    page.get_by_test_id("train-form").wait_for()
    page.get_by_test_id("model").select_option(PLUGIN_MODEL)
    page.get_by_test_id("hp-fail").wait_for()
    page.get_by_test_id("model").select_option("yolo11s-detect")
    page.get_by_test_id("hp-imgsz").wait_for()  # back to the catalog's schema
    assert page.get_by_test_id("hp-fail").count() == 0
