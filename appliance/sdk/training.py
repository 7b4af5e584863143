"""Training from the SDK: ``run = client.train("shapes", epochs=30)``, then
``for m in run.metrics(): ...`` while it trains, and ``run.model()`` after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.sdk.transport import Transport
from appliance.sdk.types import TERMINAL_STATES, Job

if TYPE_CHECKING:
    from appliance.sdk.client import Client


@dataclass
class Run:
    """A training job, followed from the SDK."""

    client: Client
    id: str
    ws: str | None = None

    def job(self) -> Job:
        return self.client.get_job(self.ws, self.id)

    def wait(self, timeout: float | None = None) -> Job:
        """Block until it ends; returns the job (look at ``state`` and ``error``)."""
        return self.client.wait_job(self.ws, self.id, timeout=timeout)

    def metrics(self) -> Iterator[dict[str, Any]]:
        """Each epoch's metrics (losses, precision, recall, mAP50, mAP50-95, lr) as
        the run reports them, live, until it ends; epochs already done come first."""
        for ev in self.client.job_events(self.ws, self.id):
            if ev.event == "epoch":
                yield json.loads(ev.data)
            elif ev.event == "state" and json.loads(ev.data)["job"]["state"] in TERMINAL_STATES:
                return

    def model(self) -> dict[str, Any]:
        """The registered model version's lineage (after success)."""
        job = self.job()
        result = job.get("result") or {}
        if job.get("state") != "succeeded":
            raise RuntimeError(f"run {self.id} is {job.get('state')}, not succeeded")
        return self.client.model_lineage(result["model"], str(result["model_version"]), self.ws)


class TrainingApi(Transport):
    def train(
        self,
        dataset: str,
        model: str = "yolo11n-detect",
        *,
        version: str = "latest",
        name: str | None = None,
        weights: str | None = None,
        ws: str | None = None,
        **hyperparameters: Any,
    ) -> Run:
        """Train ``model`` (a catalog id, or a plugin's: ``ahoy plugins``) on a dataset
        version (pinned when asked). Hyperparameters (epochs, imgsz, batch, seed,
        device, ...) are checked against the schema of the model's plugin; a run that
        can never fit this box is refused with why. ``weights`` fine-tunes from a
        registered model version (``name`` or ``name@ref``) instead of a random start."""
        params: dict[str, Any] = {
            "dataset": dataset,
            "model": model,
            "version": version,
            "hyperparameters": hyperparameters,
        }
        if name:
            params["name"] = name
        if weights:  # fine-tune from a registered model version: "name" or "name@ref"
            params["weights"] = weights
        job: Job = self._json(
            "POST", self._ws(ws, "jobs"), json={"kind": "train", "params": params}
        )
        return Run(self, job["id"], ws)  # type: ignore[arg-type]

    def augment(
        self,
        dataset: str,
        *,
        version: str = "latest",
        into: str | None = None,
        ws: str | None = None,
        **recipe: Any,
    ) -> Job:
        """Expand a version's TRAIN split (``copies`` per image, default 7) into a new
        version of ``into`` (default ``<dataset>-aug``); val and test are carried over.
        Recipe fields: copies, seed and the transform limits (``job_kinds()``). The
        job's result names the new version; its ``derived_from`` names the source."""
        params: dict[str, Any] = {"dataset": dataset, "version": version, "recipe": recipe}
        if into:
            params["into"] = into
        job: Job = self._json(
            "POST", self._ws(ws, "jobs"), json={"kind": "augment", "params": params}
        )
        return job
