"""The model plugin contract: what a package registers under the ``ahoy.models``
entry point group to add trainable models to the appliance.

A plugin is one object (the entry point's target) with

* ``manifest`` — a :class:`Manifest`: its name and version, the models it trains
  (:class:`ModelInfo`: id and task) and one JSON Schema (draft 2020-12) for their
  hyperparameters. The appliance validates every request against that schema and
  the console renders it as a form.
* ``resources(model_id, hyperparameters, host)`` — the
  :class:`~appliance.domain.governor.ResourceRequest` a run asks the governor for,
  given the validated hyperparameters and the box's reading (GPUs or not).
* ``train(ctx)`` — runs one training to its end and returns a
  :class:`TrainOutcome`; see :class:`TrainContext` for what it is given and owes.

Optional hooks, declared now and used by later job kinds: ``build`` (what a model
id with these hyperparameters is, without training it), ``evaluate`` and
``export``; :func:`hooks_of` says which a plugin has.

Registering, in the plugin's ``pyproject.toml``::

    [project.entry-points."ahoy.models"]
    myplugin = "myplugin.ahoy:PLUGIN"

The entry point's name is the manifest's name. Model ids are unique across all
plugins; an id with a ``/`` must start with the plugin's name (``myplugin/tiny``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from appliance.domain.governor import HostReading, ResourceRequest
from appliance.domain.training.events import Event
from appliance.errors import ApplianceError

#: The entry point group plugins register under.
GROUP = "ahoy.models"
#: Tasks a plugin model may train: the dataset layouts the appliance materialises.
TASKS = ("detect", "segment", "pose", "classify")
#: The optional hooks, in the order they are listed.
OPTIONAL_HOOKS = ("build", "evaluate", "export")


@dataclass(frozen=True)
class ModelInfo:
    """One model a plugin trains."""

    id: str  # unique across plugins: yolo11n-detect, myplugin/tiny
    task: str  # one of TASKS: which dataset layout the run is given
    title: str = ""  # shown in the console's model picker
    #: Anything else a client may show (family, size, params …); plain JSON values.
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.details, "id": self.id, "task": self.task, "title": self.title}


@dataclass(frozen=True)
class Manifest:
    """What a plugin declares about itself; checked when it is discovered."""

    name: str  # lower case letters, digits, '-' or '_'; the entry point's name
    version: str
    models: tuple[ModelInfo, ...]
    #: JSON Schema (draft 2020-12) of an object: the hyperparameters of every model
    #: of this plugin. ``default`` values fill what a request leaves out.
    hyperparameters: Mapping[str, Any]
    summary: str = ""

    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks its models train, in order of first appearance."""
        return tuple(dict.fromkeys(m.task for m in self.models))


@dataclass(frozen=True)
class TrainContext:
    """What :meth:`ModelPlugin.train` is given.

    ``train`` is called on a worker thread of the appliance's job worker (not on its
    event loop), after the dataset version was laid out in its frozen split:
    ``dataset_dir`` holds a YOLO dataset (``data.yaml``, ``images/``, ``labels/``;
    for ``classify`` a folder per class under ``train/`` and ``val/``) and must be
    treated as read-only. Write everything under ``output_dir``; console output
    written to ``log_path`` is followed live as the job's log and kept as the
    ``train.log`` artifact when the outcome lists it.

    Heavy work belongs in a child process in its own session (process group): hand
    its id to ``adopt`` and a cancel kills the whole group, as the catalog plugin
    does. Work done on the calling thread should poll ``cancel_requested`` and raise
    :class:`TrainingCancelled` when it answers true.
    """

    model_id: str
    task: str
    dataset_dir: Path
    output_dir: Path
    #: Validated against the manifest's schema, with its defaults filled in.
    hyperparameters: Mapping[str, Any]
    #: Report progress: ``Started``, ``Progress``, ``Epoch``, ``Log`` events of
    #: :mod:`appliance.domain.training.events`; recorded and streamed as they come.
    emit: Callable[[Event], None]
    #: Record the process group doing the work, so a cancel kills all of it.
    adopt: Callable[[int], None]
    #: Whether the job was asked to stop (a call to the catalog: poll, don't spin).
    cancel_requested: Callable[[], bool]
    devices: tuple[str, ...] = ()  # granted GPUs as CUDA names them ("0", "MIG-…")
    threads: int | None = None  # CPU cores granted
    config_dir: Path | None = None  # the appliance's offline config dir for ML libraries
    labels: Mapping[str, Any] = field(default_factory=dict)  # job id …
    #: Fine-tune from these weights (a registered model version's file) instead of
    #: a random initialisation; None for a run from scratch.
    weights: Path | None = None

    @property
    def log_path(self) -> Path:
        return self.output_dir / "train.log"


@dataclass(frozen=True)
class TrainOutcome:
    """A finished training. ``weights`` becomes the new model version; every file of
    ``artifacts`` (name → path) is kept as the job's artifact, the weights too."""

    weights: Path
    metrics: Mapping[str, float | None]
    artifacts: Mapping[str, Path] = field(default_factory=dict)
    #: What made it, recorded in the model's lineage beside the plugin's name and
    #: version: library versions, architecture file … (plain JSON values).
    code: Mapping[str, Any] = field(default_factory=dict)
    best_epoch: int = 0
    epochs_run: int = 0


class PluginError(ApplianceError):
    """A plugin could not do what was asked."""

    code = "plugin-failed"


class TrainingCancelled(PluginError):
    """Raised by ``train`` when it stopped because the job was cancelled."""

    code = "cancelled"


class PluginTrainingFailed(PluginError):
    """Raised by ``train`` for a run that failed in a way the user can act on;
    ``message`` and ``hint`` are shown on the job."""

    code = "training-failed"


@runtime_checkable
class ModelPlugin(Protocol):
    """The required part of a plugin (see the module docstring)."""

    @property
    def manifest(self) -> Manifest: ...

    def resources(
        self, model_id: str, hyperparameters: Mapping[str, Any], host: HostReading
    ) -> ResourceRequest:
        """What one run asks of the box; ``hyperparameters`` are validated and
        complete. Estimate high: the governor admits on it."""
        ...

    def train(self, ctx: TrainContext) -> TrainOutcome:
        """Train ``ctx.model_id`` to the end (blocking). Raise
        :class:`PluginTrainingFailed` with a hint for a failure the user can fix,
        :class:`TrainingCancelled` when stopped by a cancel."""
        ...


class Builds(Protocol):
    """Optional: what a model id with these hyperparameters is (architecture,
    parameter count …), without training it."""

    def build(self, model_id: str, hyperparameters: Mapping[str, Any]) -> Mapping[str, Any]: ...


class Evaluates(Protocol):
    """Optional (the evaluation job kind): metrics of ``weights`` on a dataset dir
    laid out as for training (its test split)."""

    def evaluate(
        self, model_id: str, weights: Path, dataset_dir: Path, output_dir: Path
    ) -> Mapping[str, float | None]: ...


class Exports(Protocol):
    """Optional (the export job kind): ``weights`` in a deployable ``fmt``
    (``onnx`` …), written under ``output_dir``; returns the file."""

    def export(self, model_id: str, weights: Path, fmt: str, output_dir: Path) -> Path: ...


def hooks_of(plugin: object) -> list[str]:
    """The hooks ``plugin`` implements: ``train`` and any optional ones."""
    found = ["train"] if callable(getattr(plugin, "train", None)) else []
    return found + [h for h in OPTIONAL_HOOKS if callable(getattr(plugin, h, None))]
