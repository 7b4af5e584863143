"""What one training run is: dataset, model, validated hyperparameters, output.

A :class:`TrainSpec` is checked completely before any process starts (every bad
field is named in one :class:`InvalidTrainingSpec`), then written as JSON for the
worker subprocess, which reads and checks it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from appliance.domain.training import catalog, hyperparams
from appliance.errors import InvalidInput

_VALIDATOR = Draft202012Validator(hyperparams.SCHEMA)


class InvalidTrainingSpec(InvalidInput):
    """The run cannot start: ``problems`` lists (field, what is wrong) for each."""

    code = "invalid-training-spec"

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        listing = "; ".join(f"{name}: {why}" for name, why in problems)
        super().__init__(
            f"training refused, {len(problems)} problem(s): {listing}",
            hint="fix these fields; nothing was started",
        )
        self.problems = list(problems)

    @property
    def fields(self) -> list[str]:
        return [name for name, _ in self.problems]


def hyperparameter_problems(given: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every way ``given`` breaks the hyperparameter schema, as (field, message)."""
    problems: list[tuple[str, str]] = []
    for error in sorted(_VALIDATOR.iter_errors(dict(given)), key=lambda e: list(e.path)):
        if error.validator == "additionalProperties":
            extra = sorted(set(given) - set(hyperparams.SCHEMA["properties"]))
            problems += [(name, "is not a hyperparameter") for name in extra]
        elif error.path:
            problems.append((".".join(str(p) for p in error.path), error.message))
        else:
            problems.append(("hyperparameters", error.message))
    return problems


def validate_hyperparameters(given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` over the defaults; raises :class:`InvalidTrainingSpec` naming each bad field."""
    problems = hyperparameter_problems(given)
    if problems:
        raise InvalidTrainingSpec(problems)
    return hyperparams.with_defaults(given)


@dataclass(frozen=True)
class TrainSpec:
    """One training run. Build it with :meth:`create`, which validates everything."""

    dataset: Path  # a YOLO dataset dir holding data.yaml (absolute paths inside)
    model: str  # a catalog id (yolo11n-detect) or a path to uploaded weights (.pt)
    hyperparameters: dict[str, Any]  # complete: validated and over the defaults
    output_dir: Path
    timeout_s: float | None = None  # wall clock; the supervisor kills the run after it
    devices: tuple[str, ...] = ()  # GPUs the governor granted ("0", "1")
    threads: int | None = None  # torch CPU threads (the cores granted); None: torch decides
    plots: bool = True
    config_dir: Path | None = None  # ultralytics config dir; default under output_dir
    extra: dict[str, Any] = field(default_factory=dict)  # free-form labels (job id …)

    @classmethod
    def create(
        cls,
        dataset: Path | str,
        model: str,
        hyperparameters: Mapping[str, Any] | None = None,
        output_dir: Path | str = "runs/train",
        **options: Any,
    ) -> TrainSpec:
        """A checked spec; raises :class:`InvalidTrainingSpec` listing every problem."""
        given = dict(hyperparameters or {})
        problems = [(f"hyperparameters.{n}", why) for n, why in hyperparameter_problems(given)]
        dataset = Path(dataset).resolve()
        model_problems = _model_problems(model)
        if _task(model) == "classify":  # ultralytics reads class folders, not data.yaml
            if not (dataset / "train").is_dir():
                problems.append(("dataset", f"{dataset} holds no train/ folder of classes"))
        elif not (dataset / "data.yaml").is_file():
            problems.append(("dataset", f"{dataset} holds no data.yaml"))
        problems += model_problems
        timeout = options.get("timeout_s")
        if timeout is not None and not timeout > 0:
            problems.append(("timeout_s", "must be a positive number of seconds"))
        threads = options.get("threads")
        if threads is not None and not (isinstance(threads, int) and threads > 0):
            problems.append(("threads", "must be a positive whole number"))
        if problems:
            raise InvalidTrainingSpec(problems)
        return cls(
            dataset=dataset,
            model=model,
            hyperparameters=hyperparams.with_defaults(given),
            output_dir=Path(output_dir).resolve(),
            **options,
        )

    @property
    def seed(self) -> int:
        return int(self.hyperparameters["seed"])

    @property
    def data_yaml(self) -> Path:
        return self.dataset / "data.yaml"

    @property
    def data(self) -> Path:
        """What ultralytics is given as ``data``: data.yaml, or for classification
        the dataset dir itself (train/ and val/ hold a folder per class)."""
        return self.dataset if _task(self.model) == "classify" else self.data_yaml

    @property
    def weights(self) -> Path | None:
        """The uploaded weights file, when the model is not a catalog id."""
        return None if _is_catalog_id(self.model) else Path(self.model)

    @property
    def ultralytics_config_dir(self) -> Path:
        return self.config_dir or self.output_dir / ".ultralytics"

    def device(self) -> str:
        """The device string for ultralytics. Granted GPUs are exposed to the worker
        through CUDA_VISIBLE_DEVICES (see ``supervise``), so they count from 0 here."""
        wanted = self.hyperparameters["device"]
        if wanted == "cpu" or (wanted == "auto" and not self.devices):
            return "cpu"
        return ",".join(str(i) for i in range(max(1, len(self.devices))))

    def train_args(self) -> dict[str, Any]:
        """Keyword arguments for ``YOLO.train`` (hyperparameters plus fixed choices)."""
        args = {k: v for k, v in self.hyperparameters.items() if k != "device"}
        return {
            **args,
            "data": str(self.data),
            "device": self.device(),
            "project": str(self.output_dir),
            "name": "run",
            "exist_ok": True,
            "plots": self.plots,
            "verbose": True,
        }

    @property
    def run_dir(self) -> Path:
        """Where ultralytics writes weights, results.csv, args.yaml and plots."""
        return self.output_dir / "run"

    def to_json(self) -> str:
        """The spec as JSON, for the worker subprocess."""
        return json.dumps(
            {
                "dataset": str(self.dataset),
                "model": self.model,
                "hyperparameters": self.hyperparameters,
                "output_dir": str(self.output_dir),
                "timeout_s": self.timeout_s,
                "devices": list(self.devices),
                "threads": self.threads,
                "plots": self.plots,
                "config_dir": str(self.config_dir) if self.config_dir else None,
                "extra": self.extra,
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> TrainSpec:
        """Read (and check again) a spec written by :meth:`to_json`."""
        body = json.loads(text)
        config_dir = body.pop("config_dir", None)
        return cls.create(
            body.pop("dataset"),
            body.pop("model"),
            body.pop("hyperparameters"),
            body.pop("output_dir"),
            devices=tuple(body.pop("devices", ())),
            config_dir=Path(config_dir) if config_dir else None,
            **body,
        )


def _is_catalog_id(model: str) -> bool:
    return not model.endswith(".pt")


def _task(model: str) -> str | None:
    """The catalog task of ``model`` (None for weights files or unknown ids)."""
    try:
        return catalog.get(model).task if _is_catalog_id(model) else None
    except catalog.UnknownModel:
        return None


def _model_problems(model: str) -> list[tuple[str, str]]:
    if _is_catalog_id(model):
        try:
            catalog.get(model)
        except catalog.UnknownModel as e:
            return [("model", str(e))]
        return []
    if not Path(model).is_file():
        return [("model", f"weights file {model} does not exist")]
    return []
