"""A second model plugin, installed as a real distribution (a .dist-info on the
path of `ahoy serve`, nothing added to the project's own entry points): listed by
`ahoy plugins` beside the catalog and a plugin that cannot load, described to the
console, and trained through the API into a registered model whose lineage names
the plugin. Tier 2 reports this box's container runtime, or why there is none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.plugins.tiers import NO_RUNTIME, container_runtime
from appliance.sdk import ApiError
from tests.e2e.conftest import Appliance
from tests.plugins import plugged_appliance, seed_boxes

pytestmark = pytest.mark.e2e

MODEL = "testplugin/tiny"


@pytest.fixture(scope="module")
def plugged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    with plugged_appliance(tmp_path_factory) as app:
        yield app


@pytest.fixture(scope="module")
def boxes(plugged: Appliance, tmp_path_factory: pytest.TempPathFactory) -> str:
    return seed_boxes(plugged, tmp_path_factory)


def test_ahoy_plugins_lists_each_plugin_its_state_and_the_tiers(plugged: Appliance) -> None:
    found = plugged.ahoy_json("plugins")
    by_name = {p["name"]: p for p in found["plugins"]}
    assert [p["name"] for p in found["plugins"]] == ["ultralytics", "broken", "testplugin"]
    assert by_name["ultralytics"]["status"] == "available"
    assert len(by_name["ultralytics"]["models"]) == 22
    tiny = by_name["testplugin"]
    assert tiny["status"] == "available" and tiny["version"] == "0.3.0"
    assert tiny["distribution"] == "ahoy-test-plugin==0.3.0"
    assert [m["id"] for m in tiny["models"]] == [MODEL]
    broken = by_name["broken"]
    assert broken["status"] == "unavailable"
    assert "No module named 'imaginary_ml_lib'" in broken["error"]

    t = found["tiers"]
    assert t["catalog"]["available"] and t["catalog"]["plugins"] == ["ultralytics", "testplugin"]
    assert t["script"]["tier"] == 1 and t["script"]["kind"] == "train-script"
    container, here = t["container"], container_runtime()
    assert container["available"] is here["available"]
    if here["available"]:  # a runtime answers on this box: say which
        assert container["runtime"] == here["runtime"] and container["version"]
    else:
        assert container["reason"].startswith(NO_RUNTIME)

    text = plugged.ahoy("plugins").stdout
    assert "testplugin 0.3.0" in text and MODEL in text
    assert "broken" in text and "unavailable: it failed to load: ModuleNotFoundError" in text
    if not here["available"]:
        tier2 = next(line for line in text.splitlines() if line.startswith("tier 2 container"))
        assert f"unavailable: {NO_RUNTIME}" in tier2


def test_the_train_kind_describes_each_plugin_s_models_and_schema(plugged: Appliance) -> None:
    assert plugged.client is not None
    train = next(k for k in plugged.client.job_kinds() if k["name"] == "train")
    assert {"ultralytics", "testplugin", "broken"} <= set(train["plugins"])
    schema = train["plugins"]["testplugin"]["hyperparameters"]
    assert schema["properties"]["epochs"]["default"] == 2
    assert {"id": MODEL, "plugin": "testplugin"}.items() <= next(
        m for m in train["models"] if m["id"] == MODEL
    ).items()
    assert train["hyperparameters"]["properties"]["imgsz"]  # the catalog's form, as before
    assert train["tiers"]["container"]["tier"] == 2


def test_a_plugin_model_trains_into_a_registered_model_with_lineage(
    plugged: Appliance, boxes: str
) -> None:
    c = plugged.client
    assert c is not None
    run = c.train(boxes, MODEL, name="box-counter", epochs=3, seed=7)
    epochs = list(run.metrics())
    job = run.wait(timeout=120)
    assert job["state"] == "succeeded", job
    assert [m["epoch"] for m in epochs] == [1, 2, 3]
    assert job["request"]["ram_bytes"] == 64 << 20  # the plugin's own request
    assert job["result"]["plugin"] == "testplugin"
    assert set(job["result"]["artifacts"]) == {"tiny.weights", "train.log"}
    log = [e["data"]["line"] for e in c.job_log(run.id, kind="log")]
    assert any("with plugin testplugin 0.3.0" in line for line in log)
    assert any(line.startswith("testplugin epoch 3/3") for line in log)  # train.log, followed

    lineage = run.model()
    assert lineage["data"]["dataset"] == boxes and lineage["data"]["number"] == 1
    assert lineage["run"]["id"] == run.id
    code = lineage["code"]
    assert code["plugin"] == "testplugin" and code["plugin_version"] == "0.3.0"
    assert code["model"] == MODEL and code["trainer"] == "ahoy_test_plugin.count"
    assert lineage["config"] == {
        "hyperparameters": {"epochs": 3, "seed": 7, "fail": False},
        "seed": 7,
    }
    weights = {a["name"]: a for a in c.job_artifacts(run.id)}["tiny.weights"]
    assert lineage["model"]["weights_sha256"] == weights["sha256"]
    assert lineage["model"]["metrics"]["boxes"] > 0


def test_a_plugin_s_schema_and_its_failures_reach_the_user(plugged: Appliance, boxes: str) -> None:
    c = plugged.client
    assert c is not None
    with pytest.raises(ApiError) as bad:  # a catalog hyperparameter means nothing to it
        c.train(boxes, MODEL, imgsz=64, epochs=99)
    assert bad.value.status == 422
    assert "imgsz" in str(bad.value.problem) and "epochs" in str(bad.value.problem)
    with pytest.raises(ApiError) as unknown:
        c.train(boxes, "testplugin/huge")
    assert "testplugin/huge" in unknown.value.detail and MODEL in unknown.value.detail
    with pytest.raises(ApiError) as broken:
        c.train(boxes, "broken/anything")
    assert "broken" in str(broken.value.problem)

    failed = c.train(boxes, MODEL, epochs=1, fail=True).wait(timeout=120)
    assert failed["state"] == "failed"
    assert failed["error"] == {
        "code": "training-failed",
        "detail": "testplugin was asked to fail",
        "hint": "set fail to false",
    }
