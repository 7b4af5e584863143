"""The model registry from the SDK."""

from __future__ import annotations

from typing import Any

from appliance.sdk.transport import Transport
from appliance.sdk.types import Job


class ModelsApi(Transport):
    def list_models(self, ws: str | None = None) -> list[dict[str, Any]]:
        return list(self._json("GET", self._ws(ws, "models"))["items"])

    def model(self, name: str, ws: str | None = None) -> dict[str, Any]:
        """A model and all its versions, newest first."""
        return dict(self._json("GET", self._ws(ws, "models", name)))

    def model_version(
        self, name: str, ref: str = "latest", ws: str | None = None
    ) -> dict[str, Any]:
        return dict(self._json("GET", self._ws(ws, "models", name, "versions", ref)))

    def model_lineage(
        self, name: str, ref: str = "latest", ws: str | None = None
    ) -> dict[str, Any]:
        """What exact data trained this model: ``data`` (dataset, version number,
        manifest_hash; ``pull`` that version to rebuild it byte for byte), the
        ``run`` that made it, and the ``code`` and ``config`` it ran."""
        return dict(self._json("GET", self._ws(ws, "models", name, "versions", ref, "lineage")))

    def register_model(
        self, name: str, task: str, weights_sha256: str, ws: str | None = None
    ) -> dict[str, Any]:
        """Register weights uploaded with ``put_blob`` as a new version of ``name``."""
        body = {"name": name, "task": task, "weights_sha256": weights_sha256}
        return dict(self._json("POST", self._ws(ws, "models"), json=body))

    def promote_model(
        self,
        name: str,
        version: str,
        tag: str = "production",
        ws: str | None = None,
        *,
        accept_unmeasured: bool = False,
    ) -> dict[str, Any]:
        """Point ``tag`` at a version. An export must have passed its parity gate;
        ``accept_unmeasured`` promotes one whose parity was measured on too little
        data to decide (admins; audited)."""
        body: dict[str, Any] = {"version": version}
        if accept_unmeasured:
            body["accept_unmeasured"] = True
        return dict(self._json("PUT", self._ws(ws, "models", name, "tags", tag), json=body))

    # --- evaluation, export, comparison ----------------------------------------
    def evaluate(
        self,
        model: str,
        *,
        dataset: str | None = None,
        version: str | None = None,
        split: str | None = None,
        ws: str | None = None,
        **settings: Any,
    ) -> Job:
        """Submit an evaluation of ``model`` (``name`` or ``name@ref``): by default
        on the test split of the data it was trained on. ``settings``: conf, iou
        (of the confusion matrix and error lists), imgsz. Returns the job; its
        result names the evaluation (``evaluation(id)``)."""
        params = {"model": model, "dataset": dataset, "version": version, "split": split}
        params = {k: v for k, v in {**params, **settings}.items() if v is not None}
        job: Job = self._json(
            "POST", self._ws(ws, "jobs"), json={"kind": "evaluate", "params": params}
        )
        return job

    def export_model(
        self, model: str, fmt: str = "onnx", *, ws: str | None = None, **options: Any
    ) -> Job:
        """Submit an export of trained weights (``name@ref``) to ``fmt``; options:
        dynamic, batch, nms, opset, imgsz, and the parity data (dataset, version,
        split). The job's result names the new model version and its parity."""
        params = {"model": model, "format": fmt, **options}
        job: Job = self._json(
            "POST", self._ws(ws, "jobs"), json={"kind": "export", "params": params}
        )
        return job

    def evaluations(
        self, name: str, ref: str = "latest", ws: str | None = None
    ) -> list[dict[str, Any]]:
        path = self._ws(ws, "models", name, "versions", ref, "evaluations")
        return list(self._json("GET", path)["items"])

    def evaluation(self, evaluation_id: str, ws: str | None = None) -> dict[str, Any]:
        """The full report: per class (AP, PR curve), confusion matrix, image errors."""
        return dict(self._json("GET", self._ws(ws, "evaluations", evaluation_id)))

    def evaluation_picture(self, evaluation_id: str, name: str, ws: str | None = None) -> bytes:
        """``pr_curves.svg``, ``confusion.svg`` or ``confusion_normalized.svg``."""
        path = self._ws(ws, "evaluations", evaluation_id, "pictures", name)
        return bytes(self._request("GET", path, headers={"Accept": "image/svg+xml"}).content)

    def compare_models(
        self,
        refs: list[str],
        *,
        dataset: str | None = None,
        version: str | None = None,
        split: str | None = None,
        ws: str | None = None,
    ) -> dict[str, Any]:
        """Model versions side by side on data they were all evaluated on."""
        params = {"model": refs, "dataset": dataset, "version": version, "split": split}
        return dict(self._json("GET", self._ws(ws, "model-comparison"), params=params))
