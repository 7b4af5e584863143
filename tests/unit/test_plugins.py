"""Model plugins: discovery through (fake and real) entry points, manifest checks,
broken plugins reported rather than raised, the tiers, and the train kind going
through the plugin a model id belongs to."""

from __future__ import annotations

import subprocess
from importlib import metadata

import pytest

from appliance.domain.governor import GIB, HostReading, ResourceRequest
from appliance.domain.training import hyperparams
from appliance.errors import InvalidInput
from appliance.jobs import train
from appliance.plugins import tiers
from appliance.plugins.contract import GROUP, ModelPlugin, hooks_of
from appliance.plugins.registry import UnknownModel, discover
from appliance.plugins.schema import validate_hyperparameters
from appliance.sandbox import bwrap
from appliance.training.spec import InvalidTrainingSpec

pytestmark = pytest.mark.unit

FAKES = "tests.unit.plugin_fakes"
CPU_BOX = HostReading(cores=8, ram_total=32 * GIB, ram_available=24 * GIB, disk_free=100 * GIB)


def ep(name: str, target: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=target, group=GROUP)


def fake(name: str, attr: str) -> metadata.EntryPoint:
    return ep(name, f"{FAKES}:{attr}")


def installed() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=GROUP))


# -- the real, installed entry point --------------------------------------------------


def test_the_catalog_is_registered_as_the_ultralytics_plugin():
    found = discover()
    catalog = next(f for f in found.found if f.name == "ultralytics")
    assert catalog.status == "available", catalog.error
    assert catalog.distribution.startswith("ahoy-perception==")
    manifest = catalog.manifest
    assert manifest is not None
    assert manifest.hyperparameters == hyperparams.SCHEMA
    assert set(manifest.tasks) == {"detect", "segment", "pose", "classify"}
    plugin, info = found.resolve("yolo11n-detect")
    assert info.task == "detect" and info.details["family"] == "yolo11"
    assert hooks_of(plugin) == ["train", "build"]


# -- manifests and discovery --------------------------------------------------------


def test_a_good_fake_plugin_is_found_and_its_model_resolves():
    found = discover([fake("testplugin", "GOOD")])
    [entry] = found.found
    assert entry.status == "available" and entry.error == ""
    plugin, info = found.resolve("testplugin/tiny")
    assert info.task == "detect"
    assert entry.as_dict()["models"] == [
        {"id": "testplugin/tiny", "task": "detect", "title": "Tiny box counter", "params": 3}
    ]
    assert isinstance(plugin, ModelPlugin)


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        (ep("testplugin", "tests.unit.plugin_broken_import:PLUGIN"), "imaginary_ml_lib"),
        (ep("testplugin", "tests.unit.no_such_module:PLUGIN"), "ModuleNotFoundError"),
        (fake("testplugin", "MISSING_ATTRIBUTE"), "failed to load: AttributeError"),
        (fake("testplugin", "NOT_A_PLUGIN"), "lacks manifest, resources, train"),
        (fake("testplugin", "LAZY_FAILS"), "its manifest failed: RuntimeError: no manifest"),
        (fake("testplugin", "NOT_A_MANIFEST"), "its manifest is a dict, not a Manifest"),
        (fake("testplugin", "BAD_SCHEMA"), "not a valid JSON Schema at properties/x/minimum"),
        (fake("testplugin", "NOT_AN_OBJECT"), 'must describe an object ("type": "object")'),
        (fake("testplugin", "BAD_DEFAULT"), "its default epochs: 'two' is not of type"),
        (fake("testplugin", "NO_MODELS"), "it declares no models"),
        (fake("testplugin", "BAD_TASK"), "has task 'caption'"),
        (fake("testplugin", "FOREIGN_NAMESPACE"), "must start with 'testplugin/'"),
        (fake("testplugin", "TWICE"), "model id 'testplugin/x' is declared twice"),
        (fake("wrongname", "GOOD"), "differs from its entry point's 'wrongname'"),
    ],
)
def test_a_broken_plugin_is_reported_with_the_reason_not_raised(entry, error):
    found = discover([entry, fake("other", "OTHER")])
    broken = next(f for f in found.found if f.name == entry.name)
    assert broken.status == "unavailable" and broken.plugin is None
    assert error in broken.error
    assert broken.as_dict()["error"] == broken.error
    assert found.model_ids() == ["other/tiny"]  # the good one still serves
    with pytest.raises(UnknownModel) as unknown:
        found.resolve("testplugin/tiny")
    assert entry.name in unknown.value.hint and "other/tiny" in unknown.value.hint


def test_a_model_id_already_taken_refuses_the_later_plugin():
    """Plugins are taken in order of name (after the appliance's own)."""
    found = discover([fake("testplugin", "BARE"), fake("copycat", "COPYCAT_BARE")])
    assert [(f.name, f.status) for f in found.found] == [
        ("copycat", "available"),
        ("testplugin", "unavailable"),
    ]
    assert found.found[1].error == (
        "model id 'tiny-counter' is already provided by plugin 'copycat'"
    )
    assert found.resolve("tiny-counter")[0].manifest.name == "copycat"


def test_the_appliance_s_own_catalog_wins_whatever_the_names_sort_to():
    """A plugin named to sort first cannot take over a catalog id."""
    found = discover([fake("testplugin", "CLAIMS_CATALOG_ID"), *installed()])
    assert [f.name for f in found.found] == ["ultralytics", "testplugin"]
    assert found.found[1].error == (
        "model id 'yolo11n-detect' is already provided by plugin 'ultralytics'"
    )
    assert found.resolve("yolo11n-detect")[0].manifest.name == "ultralytics"


def test_a_plugin_name_is_taken_once():
    found = discover([fake("testplugin", "GOOD"), ep("testplugin", f"{FAKES}:GOOD")])
    assert [f.status for f in found.found] == ["available", "unavailable"]
    assert found.found[1].error == "the plugin name 'testplugin' is already taken"


# -- one contract suite, every plugin -----------------------------------------------


@pytest.fixture(params=["ultralytics", "testplugin"])
def any_plugin(request) -> ModelPlugin:
    found = discover([*installed(), fake("testplugin", "GOOD")])
    return next(f.plugin for f in found.found if f.name == request.param)


def test_every_model_of_a_plugin_asks_for_resources_at_its_defaults(any_plugin):
    schema = any_plugin.manifest.hyperparameters
    defaults = validate_hyperparameters(schema, {})
    for info in any_plugin.manifest.models:
        asked = any_plugin.resources(info.id, defaults, CPU_BOX)
        assert isinstance(asked, ResourceRequest) and asked.cpu_cores >= 1, info.id
        assert asked.gpus == 0, f"{info.id} asks for a GPU on a box without one"


def test_every_plugin_trains_and_says_which_hooks_it_has(any_plugin):
    assert hooks_of(any_plugin)[0] == "train"


# -- hyperparameters against a plugin's schema --------------------------------------


def test_hyperparameters_are_validated_against_the_plugin_schema_with_every_field_named():
    from tests.plugins.ahoy_test_plugin import SCHEMA

    assert validate_hyperparameters(SCHEMA, {"epochs": 3}) == {
        "epochs": 3,
        "seed": 0,
        "fail": False,
    }
    with pytest.raises(InvalidTrainingSpec) as bad:
        validate_hyperparameters(SCHEMA, {"epochs": 0, "imgsz": 64, "fail": "yes"})
    assert bad.value.fields == ["imgsz", "epochs", "fail"]
    with pytest.raises(InvalidTrainingSpec, match="must be a JSON object"):
        validate_hyperparameters(SCHEMA, ["epochs"])


@pytest.fixture
def with_test_plugin(monkeypatch):
    found = discover([*installed(), fake("testplugin", "GOOD")])
    monkeypatch.setattr(train, "plugins", lambda: found)
    return found


def test_the_train_kind_validates_and_requests_through_the_model_s_plugin(with_test_plugin):
    params = train.validate({"dataset": "shapes", "model": "testplugin/tiny"})
    assert params["hyperparameters"] == {"epochs": 2, "seed": 0, "fail": False}
    assert train.request(params, CPU_BOX).ram_bytes == 64 << 20
    catalog = train.validate({"dataset": "shapes", "hyperparameters": {"epochs": 3}})
    assert catalog["model"] == "yolo11n-detect" and catalog["hyperparameters"]["imgsz"] == 640
    with pytest.raises(InvalidTrainingSpec) as bad:  # the catalog's fields mean nothing here
        train.validate(
            {"dataset": "s", "model": "testplugin/tiny", "hyperparameters": {"imgsz": 64}}
        )
    assert bad.value.fields == ["imgsz"]
    with pytest.raises(InvalidInput) as unknown:
        train.validate({"dataset": "s", "model": "testplugin/huge"})
    assert "'testplugin/huge' is not in the catalog or any plugin" in unknown.value.message
    assert "testplugin/tiny" in unknown.value.message


def test_the_train_kind_describes_every_plugin_and_the_tiers(with_test_plugin, monkeypatch):
    monkeypatch.setattr(
        "appliance.plugins.overview.cached_container_runtime",
        lambda: {"available": False, "reason": tiers.NO_RUNTIME},
    )
    monkeypatch.setattr("appliance.plugins.overview.plugins", lambda: with_test_plugin)
    described = train.describe()
    assert set(described["plugins"]) == {"ultralytics", "testplugin"}
    tiny = described["plugins"]["testplugin"]
    assert tiny["version"] == "0.3.0" and tiny["hyperparameters"]["properties"]["fail"]
    by_id = {m["id"]: m for m in described["models"]}
    assert by_id["testplugin/tiny"]["plugin"] == "testplugin"
    assert by_id["yolo11n-detect"]["plugin"] == "ultralytics"
    assert described["hyperparameters"] == hyperparams.SCHEMA  # the catalog's, as before
    assert described["tiers"]["catalog"]["plugins"] == ["ultralytics", "testplugin"]
    assert described["tiers"]["container"] == {
        "tier": 2,
        "kind": None,
        "available": False,
        "reason": "no container runtime (docker or podman) on this box",
    }


# -- tier 2: a container runtime, or why not ----------------------------------------


def _ran(code: int, out: str = "", err: str = ""):
    def run(argv, **kwargs):
        assert kwargs["timeout"] == tiers.INFO_TIMEOUT_S
        return subprocess.CompletedProcess(argv, code, out, err)

    return run


def _timeout(argv, **kwargs):
    raise subprocess.TimeoutExpired(argv, kwargs["timeout"])


DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."


@pytest.mark.parametrize(
    ("on_path", "run", "expected"),
    [
        ((), _ran(0, "28.2.2\n"), {"available": False, "reason": tiers.NO_RUNTIME}),
        (
            ("docker",),
            _ran(0, "28.2.2\n"),
            {"available": True, "runtime": "docker", "version": "28.2.2", "path": "/bin/docker"},
        ),
        (
            ("docker",),
            _ran(1, "\n", DOWN + "\nIs the docker daemon running?\n"),
            {
                "available": False,
                "reason": f"{tiers.NO_RUNTIME} that answers: `docker info` failed (exit 1): {DOWN}",
            },
        ),
        (
            ("docker", "podman"),
            _timeout,
            {
                "available": False,
                "reason": f"{tiers.NO_RUNTIME} that answers: `docker info` did not answer"
                " within 3 s; `podman info` did not answer within 3 s",
            },
        ),
        (
            ("podman",),
            _ran(0, "5.4.0\n"),
            {"available": True, "runtime": "podman", "version": "5.4.0", "path": "/bin/podman"},
        ),
    ],
)
def test_the_container_tier_names_what_it_found_or_why_not(on_path, run, expected):
    def which(name: str) -> str | None:
        return f"/bin/{name}" if name in on_path else None

    assert tiers.container_runtime(which=which, run=run) == expected


def test_the_script_tier_follows_the_train_script_kind():
    found = discover([])
    assert tiers.tiers(found, ["train"], {"available": False, "reason": "x"})["script"] == {
        "tier": 1,
        "available": False,
        "kind": "train-script",
        "reason": "script mode is not installed on this appliance",
    }
    offered = tiers.tiers(found, ["train", "train-script"], {"available": False})
    # offered, and available where this box can make the sandbox (else it says why)
    assert offered["script"]["available"] is bwrap.status()["available"]
    if not offered["script"]["available"]:
        assert "bwrap" in offered["script"]["reason"] or "sandbox" in offered["script"]["reason"]
    assert (
        offered["catalog"]["available"] is False
        and "no model plugin" in (offered["catalog"]["reason"])
    )
