"""The hyperparameter schema (draft 2020-12) and the spec that validates against it."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from appliance.domain.training import hyperparams
from appliance.training.spec import InvalidTrainingSpec, TrainSpec, validate_hyperparameters

pytestmark = pytest.mark.unit

FIELDS = {
    "epochs", "imgsz", "batch", "lr0", "lrf", "momentum", "weight_decay", "warmup_epochs",
    "optimizer", "patience", "seed", "device", "workers", "mosaic", "fliplr", "hsv_h",
    "hsv_s", "hsv_v", "close_mosaic", "cache", "deterministic",
}  # fmt: skip


def test_the_schema_is_valid_draft_2020_12_and_renders_as_a_form():
    Draft202012Validator.check_schema(hyperparams.SCHEMA)
    assert hyperparams.SCHEMA["$schema"].endswith("/2020-12/schema")
    props = hyperparams.SCHEMA["properties"]
    assert set(props) == FIELDS
    for name, prop in props.items():
        assert prop["title"] and prop["description"], name
        assert "default" in prop, name
        if prop["type"] in ("integer", "number"):
            assert prop["minimum"] <= prop["default"] <= prop["maximum"], name
    json.dumps(hyperparams.schema())  # serialisable as is


def test_defaults_are_valid_and_complete():
    assert set(hyperparams.defaults()) == FIELDS
    assert validate_hyperparameters({}) == hyperparams.defaults()
    assert validate_hyperparameters({"epochs": 3})["epochs"] == 3
    assert hyperparams.defaults()["device"] == "auto"


def test_schema_copy_is_independent():
    copy = hyperparams.schema()
    copy["properties"]["epochs"]["default"] = 1
    assert hyperparams.SCHEMA["properties"]["epochs"]["default"] == 100


@pytest.mark.parametrize(
    ("given", "field", "says"),
    [
        ({"epochs": -1}, "epochs", "less than the minimum of 1"),
        ({"epochs": 2.5}, "epochs", "not of type 'integer'"),
        ({"optimizer": "Adamm"}, "optimizer", "is not one of"),
        ({"imgsz": 100}, "imgsz", "not a multiple of 32"),
        ({"lr0": 0}, "lr0", "less than or equal to the minimum of 0"),
        ({"device": "tpu"}, "device", "is not one of"),
        ({"cache": "ram"}, "cache", "not of type 'boolean'"),
        ({"mosiac": 1.0}, "mosiac", "is not a hyperparameter"),
    ],
)
def test_each_bad_field_is_named(given, field, says):
    with pytest.raises(InvalidTrainingSpec) as err:
        validate_hyperparameters(given)
    assert err.value.fields == [field]
    assert says in err.value.problems[0][1]


def test_every_bad_field_is_listed_at_once(tmp_path):
    (tmp_path / "data.yaml").write_text("names: {0: a}\n")
    with pytest.raises(InvalidTrainingSpec) as err:
        TrainSpec.create(
            tmp_path, "yolo11n-detect", {"epochs": -1, "optimizer": "Adamm", "batch": 0}, tmp_path
        )
    assert err.value.fields == [
        "hyperparameters.batch",
        "hyperparameters.epochs",
        "hyperparameters.optimizer",
    ]
    assert "3 problem(s)" in str(err.value) and "nothing was started" in str(err.value)


def test_spec_checks_model_dataset_and_limits(tmp_path):
    with pytest.raises(InvalidTrainingSpec) as err:
        TrainSpec.create(tmp_path, "yolo99-detect", {}, tmp_path, timeout_s=0, threads=-2)
    assert err.value.fields == ["dataset", "model", "timeout_s", "threads"]
    with pytest.raises(InvalidTrainingSpec, match=r"weights file .*missing\.pt does not exist"):
        (tmp_path / "data.yaml").write_text("names: {0: a}\n")
        TrainSpec.create(tmp_path, str(tmp_path / "missing.pt"), {}, tmp_path)


def test_spec_round_trips_through_json(tmp_path):
    (tmp_path / "data.yaml").write_text("names: {0: a}\n")
    spec = TrainSpec.create(
        tmp_path, "yolo11n-detect", {"epochs": 3, "device": "cuda"}, tmp_path / "out",
        timeout_s=60.0, devices=("1",), threads=2, extra={"job": "j1"},
    )  # fmt: skip
    again = TrainSpec.from_json(spec.to_json())
    assert again == spec
    assert (again.seed, again.weights, again.device()) == (0, None, "0")


@pytest.mark.parametrize(
    ("device", "devices", "expected"),
    [("cpu", ("0",), "cpu"), ("auto", (), "cpu"), ("auto", ("3",), "0"),
     ("cuda", ("2", "3"), "0,1"), ("cuda", (), "0")],
)  # fmt: skip
def test_device_counts_granted_gpus_from_zero(tmp_path, device, devices, expected):
    (tmp_path / "data.yaml").write_text("names: {0: a}\n")
    spec = TrainSpec.create(
        tmp_path, "yolo11n-detect", {"device": device}, tmp_path, devices=devices
    )
    assert spec.device() == expected
    args = spec.train_args()
    assert args["device"] == expected and args["data"] == str(tmp_path / "data.yaml")
    assert args["project"] == str(tmp_path) and args["name"] == "run"


def test_classification_reads_class_folders_not_data_yaml(tmp_path):
    with pytest.raises(InvalidTrainingSpec, match="holds no train/ folder of classes"):
        TrainSpec.create(tmp_path, "yolo11n-classify", {}, tmp_path)
    (tmp_path / "train" / "cat").mkdir(parents=True)
    spec = TrainSpec.create(tmp_path, "yolo11n-classify", {}, tmp_path / "out")
    assert spec.train_args()["data"] == str(tmp_path)
