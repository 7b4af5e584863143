"""The model registry of a workspace: models, their versions (each tied to the
dataset version and run that made it), tags such as ``production``, and the
evaluations of a version on a split of a dataset version."""

from __future__ import annotations

from typing import Any, Protocol

from appliance.domain.records import Evaluation, Model, ModelSummary, ModelVersion


class Models(Protocol):
    """A model or model version id of another workspace is not found: reads give
    nothing or raise NotFound as documented, ``add_version`` and ``set_tag`` raise
    NotFound, ``set_metrics`` changes nothing."""

    async def get(self, name: str) -> Model:
        """Raises NotFound."""

    async def ensure(self, name: str, task: str, actor: str) -> Model:
        """The model named ``name``, created on first use; raises InvalidInput when
        it exists for another task."""

    async def add_version(self, model_id: int, **fields: Any) -> ModelVersion:
        """The model's next version. ``fields``: source, weights_sha256,
        weights_size, format, actor, and optionally dataset_version_id, run_id,
        metrics, code, config, parent_version_id. The weights blob is stored first.
        Raises NotFound when the model, the dataset version, the run or the parent
        version is not the workspace's."""

    async def set_metrics(self, version_id: int, metrics: dict[str, Any]) -> None:
        """Replace a version's metrics (an export gains its parity once measured).
        Changes nothing for a version of another workspace."""

    async def version(self, model_id: int, ref: str) -> ModelVersion:
        """By number ('3' or 'v3'), tag, or 'latest'. Raises NotFound."""

    async def versions(self, model_id: int) -> list[ModelVersion]:
        """Newest first (none for a model of another workspace)."""

    async def set_tag(self, model_id: int, name: str, version_id: int, actor: str) -> None:
        """Point ``name`` at the version (moving it if it named another). Raises
        NotFound unless the version is one of the model's, in this workspace."""

    async def list(self) -> list[ModelSummary]:
        """By name."""


class Evaluations(Protocol):
    """The row holds the summary lists and comparisons need; the full report is
    the evaluating job's artifacts."""

    async def add(
        self,
        evaluation_id: str,
        job_id: str,
        model_version_id: int,
        dataset_version_id: int,
        split: str,
        summary: dict[str, Any],
        settings: dict[str, Any],
        actor: str,
    ) -> Evaluation:
        """Raises NotFound when the job, the model version or the dataset version is
        not the workspace's."""

    async def get(self, evaluation_id: str) -> Evaluation:
        """Raises NotFound."""

    async def of(self, model_version_id: int) -> list[Evaluation]:
        """The model version's evaluations, newest first."""
