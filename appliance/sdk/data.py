"""Data endpoints under ``/v1/workspaces/{ws}``: datasets, blobs, the working area,
versions, tags, storage jobs, erasures and webhooks.

``ws=None`` everywhere means the client's own workspace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import requests

from appliance.domain.split import SplitConfig
from appliance.sdk.transport import Transport, q
from appliance.sdk.types import Job, ManifestRow, StageResult, Version

MISSING_CHUNK = 5000  # digests per POST /blobs/missing


class DataApi(Transport):
    # --- datasets ------------------------------------------------------------
    def list_datasets(self, ws: str | None = None) -> list[dict[str, Any]]:
        """``[{name, description, split, latest_version, working_files, created_at}]``."""
        return list(self._items(self._ws(ws, "datasets")))

    def create_dataset(
        self,
        ws: str | None,
        name: str,
        description: str = "",
        split: SplitConfig | None = None,
    ) -> dict[str, Any]:
        """``split`` omitted: the server's default. The answer gives the split in
        the shape ``SplitConfig.from_dict`` reads."""
        body: dict[str, Any] = {"name": name, "description": description}
        if split is not None:
            body["split"] = split.as_dict()
        return dict(self._json("POST", self._ws(ws, "datasets"), json=body))

    def get_dataset(self, ws: str | None, name: str) -> dict[str, Any]:
        return dict(self._json("GET", self._ws(ws, "datasets", name)))

    def delete_dataset(self, ws: str | None, name: str) -> None:
        """Refused (409) while one of its versions is held."""
        self._json("DELETE", self._ws(ws, "datasets", name))

    # --- blobs ---------------------------------------------------------------
    def missing_blobs(self, ws: str | None, digests: Iterable[str]) -> set[str]:
        """Which of ``digests`` the workspace's store lacks (asked in chunks)."""
        todo = sorted(set(digests))
        missing: set[str] = set()
        for i in range(0, len(todo), MISSING_CHUNK):
            chunk = todo[i : i + MISSING_CHUNK]
            got = self._json("POST", self._ws(ws, "blobs", "missing"), json={"sha256": chunk})
            missing.update(got["missing"])
        return missing

    def upload_blob_tar(self, ws: str | None, body: Any) -> dict[str, Any]:
        """``POST /blobs`` with a tar whose members are named by sha256 hex.

        ``body`` may be bytes, a file or an iterable of bytes (with ``__len__``
        to send a Content-Length instead of chunked encoding).
        """
        hdrs = {"Content-Type": "application/x-tar"}
        return dict(self._json("POST", self._ws(ws, "blobs"), data=body, headers=hdrs))

    def put_blob(self, ws: str | None, sha256: str, body: Any) -> dict[str, Any]:
        """``PUT /blobs/{sha256}``: raw bytes, checked against the name on arrival."""
        hdrs = {"Content-Type": "application/octet-stream"}
        return dict(self._json("PUT", self._ws(ws, "blobs", sha256), data=body, headers=hdrs))

    def get_blob(self, ws: str | None, sha256: str) -> bytes:
        return self._request("GET", self._ws(ws, "blobs", sha256)).content

    # --- working area --------------------------------------------------------
    def working(self, ws: str | None, name: str) -> dict[str, Any]:
        """``{dataset, head, working_files, changes: {added, removed, modified, unchanged}}``."""
        return dict(self._json("GET", self._ws(ws, "datasets", name, "working")))

    def working_files(self, ws: str | None, name: str) -> Iterator[dict[str, Any]]:
        return self._items(self._ws(ws, "datasets", name, "working", "files"))

    def stage_files(
        self,
        ws: str | None,
        name: str,
        files: Sequence[dict[str, Any]],
        mirror_prefix: str | None = None,
    ) -> StageResult:
        """Record ``[{name, sha256, size}]`` in the working area in one transaction.

        ``mirror_prefix`` (``""`` = the whole dataset) also drops names under it
        that ``files`` lacks. Every blob must be stored first.
        """
        body = {"files": list(files), "mirror_prefix": mirror_prefix}
        path = self._ws(ws, "datasets", name, "working", "files")
        result: StageResult = self._json("POST", path, json=body)
        return result

    def remove_files(self, ws: str | None, name: str, paths: Sequence[str]) -> list[str]:
        """Drop files (or folders given as ``dir/``) from the working area."""
        path = self._ws(ws, "datasets", name, "working", "remove")
        return list(self._json("POST", path, json={"paths": list(paths)})["removed"])

    # --- versions ------------------------------------------------------------
    def list_versions(self, ws: str | None, name: str) -> Iterator[Version]:
        """Newest first."""
        return self._items(self._ws(ws, "datasets", name, "versions"))

    def commit(
        self,
        ws: str | None,
        name: str,
        message: str = "",
        *,
        split: SplitConfig | None = None,
        allow_empty: bool = False,
        only_approved: bool = False,
        idempotency_key: str | None = None,
    ) -> Version:
        """Freeze the working area into a new immutable version (409
        ``nothing-to-commit`` when nothing changed and not ``allow_empty``).
        ``split``: the dataset's split from this version on (omitted: unchanged).
        ``only_approved``: take only approved images; the rest keep the head's entry."""
        body: dict[str, Any] = {"message": message, "allow_empty": allow_empty}
        if split is not None:
            body["split"] = split.as_dict()
        if only_approved:
            body["only_approved"] = True
        path = self._ws(ws, "datasets", name, "versions")
        version: Version = self._json("POST", path, json=body, idempotency_key=idempotency_key)
        return version

    def get_version(self, ws: str | None, name: str, ref: str | int) -> Version:
        """``ref``: a number, ``vN``, a tag or ``latest``."""
        version: Version = self._json("GET", self._ws(ws, "datasets", name, "versions", ref))
        return version

    def delete_version(self, ws: str | None, name: str, ref: str | int) -> None:
        self._json("DELETE", self._ws(ws, "datasets", name, "versions", ref))

    def manifest(self, ws: str | None, name: str, ref: str | int) -> Iterator[ManifestRow]:
        """``{filename, sha256, label_sha256, role, split}`` rows, all pages."""
        return self._items(self._ws(ws, "datasets", name, "versions", ref, "manifest"))

    def get_schema(self, ws: str | None, name: str) -> dict[str, Any]:
        """The dataset's label schema: ``{dataset, classes, skeletons}``."""
        return dict(self._json("GET", self._ws(ws, "datasets", name, "schema")))

    def set_schema(
        self,
        ws: str | None,
        name: str,
        *,
        preset: str | None = None,
        classes: Sequence[dict[str, Any]] | None = None,
        coco_categories: Sequence[dict[str, Any]] | None = None,
        coco_top: dict[str, Any] | None = None,
        mapping: Mapping[int, int | None] | None = None,
    ) -> dict[str, Any]:
        """Set the label schema from a preset (e.g. ``weather-17x3``) or class list
        (a COCO import also keeps its categories and top-level keys beside it).

        A change that would make existing labels read as other classes is refused
        (409 ``schema-change-refused``, ``affected`` lists each class) unless
        ``mapping`` says where each goes: old id → new id, or None to drop its
        objects. The working area's label documents are then rewritten, and the
        answer's ``relabelled`` counts files, reclassed and dropped objects."""
        body: dict[str, Any] = {"preset": preset} if preset else {"classes": list(classes or [])}
        if mapping:
            body["mapping"] = {str(k): "drop" if v is None else v for k, v in mapping.items()}
        if coco_categories:
            body["coco_categories"] = list(coco_categories)
        if coco_top:
            body["coco_top"] = coco_top
        return dict(self._json("PUT", self._ws(ws, "datasets", name, "schema"), json=body))

    def label_stats(self, ws: str | None, name: str, ref: str | int) -> dict[str, Any]:
        """Per class and split counts, histograms and label-quality warnings."""
        path = self._ws(ws, "datasets", name, "versions", ref, "stats")
        return dict(self._json("GET", path))

    def export_stream(
        self,
        ws: str | None,
        name: str,
        ref: str | int,
        *,
        task: str,
        split: str | None,
        format: str = "yolo",
    ) -> Any:
        """The streamed export of a version, YOLO or COCO (a ``requests`` response).
        Its ``X-Ahoy-Warning`` header, when present, says what the user must know
        (a version without val images: Ultralytics cannot train on its data.yaml)."""
        path = self._ws(ws, "datasets", name, "versions", ref, "export")
        params = {"format": format, "task": task, **({"split": split} if split else {})}
        return self._request("GET", path, params=params, stream=True)

    def erased(self, ws: str | None, name: str, ref: str | int) -> list[dict[str, Any]]:
        """Rows of the version whose content was erased, with when, who and why."""
        path = self._ws(ws, "datasets", name, "versions", ref, "manifest")
        return list(self._json("GET", path, params={"limit": 1}).get("erased", []))

    def archive(
        self,
        ws: str | None,
        name: str,
        ref: str | int,
        split: str | None = None,
        *,
        labels: bool = False,
    ) -> requests.Response:
        """The version as a streamed tar; the caller closes the response. With
        ``labels``, each file's label document follows the files as
        ``.ahoy/labels/<filename>.json`` (header ``X-Ahoy-Labels``: how many)."""
        path = self._ws(ws, "datasets", name, "versions", ref, "archive")
        params = {"split": split, **({"labels": "true"} if labels else {})}
        return self._request("GET", path, params=params, stream=True)

    def get_file(self, ws: str | None, name: str, ref: str | int, filename: str) -> bytes:
        base = self._ws(ws, "datasets", name, "versions", ref, "files")
        return self._request("GET", f"{base}/{q(filename, safe='/')}").content

    def log(self, ws: str | None, name: str, ref: str | int | None = None) -> list[Version]:
        """The parent chain from ``ref`` (default latest) back to the first version."""
        return list(self._items(self._ws(ws, "datasets", name, "log"), {"ref": ref}))

    def diff(
        self, ws: str | None, name: str, a: str | int, b: str | int, *, labels: bool = False
    ) -> dict[str, Any]:
        """``{summary, added, removed, modified}``; either side may be ``working``.
        ``labels=True`` adds, per relabelled file, what happened to its objects."""
        path = self._ws(ws, "datasets", name, "diff")
        params: dict[str, Any] = {"from": a, "to": b, **({"labels": "true"} if labels else {})}
        return dict(self._json("GET", path, params=params))

    # --- tags ----------------------------------------------------------------
    def list_tags(self, ws: str | None, name: str) -> list[dict[str, Any]]:
        return list(self._items(self._ws(ws, "datasets", name, "tags")))

    def set_tag(self, ws: str | None, name: str, tag: str, version: str | int) -> Version:
        """Point (or move) ``tag`` at ``version``; returns that version."""
        path = self._ws(ws, "datasets", name, "tags", tag)
        result: Version = self._json("PUT", path, json={"version": str(version)})
        return result

    def delete_tag(self, ws: str | None, name: str, tag: str) -> None:
        self._json("DELETE", self._ws(ws, "datasets", name, "tags", tag))

    # --- storage jobs and erasure ------------------------------------------------
    def gc(
        self, ws: str | None = None, grace_seconds: int | None = None, dry_run: bool = False
    ) -> Job:
        """Start a garbage collection; returns the queued job (see ``wait_job``)."""
        body: dict[str, Any] = {"dry_run": dry_run}
        if grace_seconds is not None:
            body["grace_seconds"] = grace_seconds
        job: Job = self._json("POST", self._ws(ws, "gc"), json=body)
        return job

    def verify(self, ws: str | None = None, deep: bool = False) -> Job:
        """Start a store check; ``deep`` re-reads and re-hashes every blob."""
        job: Job = self._json("POST", self._ws(ws, "verify"), json={"deep": deep})
        return job

    def erase(
        self,
        ws: str | None,
        reason: str,
        *,
        sha256: str | None = None,
        dataset: str | None = None,
        file: str | None = None,
        version: str | int | None = None,
    ) -> dict[str, Any]:
        """GDPR erasure of a content: by digest, or by a dataset's file (of
        ``version`` when given, else of the working area, else of whichever
        versions hold that name)."""
        body: dict[str, Any] = {"reason": reason}
        if sha256 is not None:
            body["sha256"] = sha256
        else:
            body.update(dataset=dataset, file=file)
            if version is not None:
                body["version"] = str(version)
        return dict(self._json("POST", self._ws(ws, "erasures"), json=body))

    # --- jobs ----------------------------------------------------------------
    def list_jobs(self, ws: str | None = None, **filters: Any) -> Iterator[Job]:
        return self._items(self._ws(ws, "jobs"), filters)

    def get_job(self, ws: str | None, job_id: str) -> Job:
        job: Job = self._json("GET", self._ws(ws, "jobs", job_id))
        return job

    # --- webhooks ------------------------------------------------------------
    def list_webhooks(self, ws: str | None = None) -> list[dict[str, Any]]:
        return list(self._items(self._ws(ws, "webhooks")))

    def create_webhook(self, ws: str | None, url: str, events: Sequence[str]) -> dict[str, Any]:
        """→ ``{id, url, events, secret}``; the signing secret is shown only here."""
        body = {"url": url, "events": list(events)}
        return dict(self._json("POST", self._ws(ws, "webhooks"), json=body))

    def delete_webhook(self, ws: str | None, webhook_id: str | int) -> None:
        self._json("DELETE", self._ws(ws, "webhooks", webhook_id))

    def webhook_deliveries(self, ws: str | None, webhook_id: str | int) -> Iterator[dict[str, Any]]:
        return self._items(self._ws(ws, "webhooks", webhook_id, "deliveries"))
