"""The model registry from the SDK."""

from __future__ import annotations

from typing import Any

from appliance.sdk.transport import Transport


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
        self, name: str, version: str, tag: str = "production", ws: str | None = None
    ) -> dict[str, Any]:
        return dict(
            self._json("PUT", self._ws(ws, "models", name, "tags", tag), json={"version": version})
        )
