"""Catalog: the metadata store, used through a workspace-scoped unit of work.

``async with catalog.writing(ws) as uow`` is one transaction holding the write
lock (SQLite: ``BEGIN IMMEDIATE``); ``reading(ws)`` is a consistent snapshot.
Every method acts inside the workspace the unit of work was opened for, so no
caller can reach another tenant's rows. The SQLite adapter is the reference; a
PostgreSQL adapter must pass the same tests and compute the same fingerprints
(they are computed in the domain, never in SQL).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from appliance.domain.audit_chain import ChainCheck, Checkpoint
from appliance.domain.identity import Token, User, Workspace
from appliance.domain.labels.review_stats import Activity
from appliance.domain.manifest import ManifestRow, WorkingFile
from appliance.domain.records import (
    ActiveJob,
    Artifact,
    AuditEntry,
    Dataset,
    Delivery,
    Derivation,
    Erasure,
    Evaluation,
    Hold,
    Job,
    JobEvent,
    Model,
    ModelSummary,
    ModelVersion,
    Review,
    StagedFile,
    StageResult,
    StreamState,
    Version,
    Webhook,
)
from appliance.domain.split import SplitConfig


class UnitOfWork(Protocol):
    ws: str

    # datasets
    async def create_dataset(self, slug: str, description: str, split: SplitConfig) -> Dataset:
        """Raises Conflict if a live dataset has this slug."""

    async def get_dataset(self, slug: str) -> Dataset:
        """Raises NotFound."""

    async def list_datasets(self) -> list[tuple[Dataset, int | None, int]]: ...
    async def set_dataset_split(self, dataset_id: int, split: SplitConfig) -> None: ...
    async def soft_delete_dataset(self, dataset_id: int) -> None: ...

    # files and the working area
    async def known_digests(self, digests: Collection[str]) -> set[str]: ...
    async def erased_digests(self, digests: Collection[str]) -> set[str]: ...
    async def working_files(self, dataset_id: int) -> dict[str, WorkingFile]: ...
    async def working_bytes(self, dataset_id: int) -> int: ...
    async def stored_bytes(self) -> int:
        """Bytes of every live file record: what counts against the quota."""

    async def file_sizes_of(self, digests: Collection[str]) -> dict[str, int]: ...
    async def stage(
        self,
        dataset_id: int,
        files: Iterable[StagedFile],
        remove: Collection[str] = (),
        current: dict[str, WorkingFile] | None = None,
    ) -> StageResult:
        """Upsert file records and working-area names; blobs must already be stored."""

    # versions, tags, holds
    async def head(self, dataset_id: int) -> Version | None: ...
    async def get_version(self, dataset_id: int, ref: str) -> Version:
        """By number ('3' or 'v3'), tag, or 'latest'. Raises NotFound."""

    async def version_by_id(self, version_id: int) -> Version | None: ...
    async def list_versions(self, dataset_id: int) -> list[Version]: ...
    async def create_version(
        self,
        dataset_id: int,
        rows: Sequence[ManifestRow],
        manifest_hash: str,
        split: SplitConfig,
        parent: Version | None,
        actor: str,
        message: str,
        total_bytes: int,
    ) -> Version: ...
    async def manifest(self, version_id: int) -> list[ManifestRow]:
        """Rows sorted by filename in code-point order."""

    async def file_sizes(self, version_id: int) -> dict[str, int]: ...
    async def set_tag(self, dataset_id: int, name: str, version_id: int, actor: str) -> None: ...
    async def delete_tag(self, dataset_id: int, name: str) -> bool: ...
    async def holds(self, version_id: int) -> list[Hold]: ...
    async def add_hold(self, version_id: int, holder_kind: str, holder_ref: str) -> None: ...
    async def release_hold(self, version_id: int, holder_kind: str, holder_ref: str) -> None: ...
    async def delete_version(self, version_id: int) -> set[str]:
        """Drop the version's references (the row stays for lineage); returns its digests."""

    async def add_derivation(
        self,
        version_id: int,
        source_version_id: int,
        kind: str,
        recipe: dict[str, Any],
        recipe_sha256: str,
        run_id: str | None,
    ) -> None: ...
    async def derivation(self, version_id: int) -> Derivation | None:
        """The source version (dataset, number, manifest hash) and the recipe."""

    # garbage collection and erasure
    async def mark_orphans(self, digests: Collection[str] | None = None) -> int: ...
    async def reclaimable(self, cutoff: float) -> list[tuple[str, int]]: ...
    async def forget_files(self, digests: Collection[str]) -> None: ...
    async def all_digests(self) -> set[str]: ...
    async def live_digests(self) -> set[str]: ...
    async def erased(self) -> set[str]: ...
    async def erase_file(self, sha256: str, reason: str, actor: str) -> list[tuple[str, str]]: ...
    async def erasure_record(self, sha256: str) -> Erasure | None: ...

    # audit
    async def audit(
        self, actor: str, action: str, target: str, outcome: str = "ok", **detail: Any
    ) -> None: ...
    async def audit_entries(
        self, limit: int = 100, before_id: int | None = None
    ) -> list[AuditEntry]: ...
    async def audit_since(self, after_id: int, limit: int = 500) -> list[AuditEntry]:
        """Entries after ``after_id``, oldest first: the outbox webhooks read."""

    # jobs and idempotency
    async def add_job(
        self,
        job_id: str,
        kind: str,
        params: dict[str, Any],
        actor: str,
        request: dict[str, Any] | None = None,
        admission: dict[str, Any] | None = None,
    ) -> None: ...
    async def update_job(self, job_id: str, **fields: Any) -> None: ...
    async def get_job(self, job_id: str) -> Job: ...
    async def list_jobs(self, limit: int = 100) -> list[Job]: ...
    async def add_job_events(
        self, job_id: str, events: list[tuple[str, dict[str, Any]]]
    ) -> int: ...
    async def job_events(
        self, job_id: str, after: int = 0, kinds: tuple[str, ...] = (), limit: int = 10_000
    ) -> list[JobEvent]: ...
    async def add_artifact(self, job_id: str, name: str, sha256: str, size: int) -> None: ...
    async def artifacts(self, job_id: str) -> list[Artifact]: ...
    async def idempotent_answer(
        self, principal: str, key: str
    ) -> tuple[str, int, bytes] | None: ...
    async def remember_answer(
        self, principal: str, key: str, request_hash: str, status: int, body: bytes
    ) -> None: ...

    # label schemas
    async def label_schema(self, dataset_id: int) -> dict[str, Any] | None: ...
    async def set_label_schema(
        self, dataset_id: int, schema: dict[str, Any], actor: str
    ) -> None: ...

    # annotation work (review states and activity)
    async def review_of(self, dataset_id: int, filename: str) -> Review | None: ...
    async def reviews(self, dataset_id: int) -> dict[str, Review]: ...
    async def set_review(
        self,
        dataset_id: int,
        filename: str,
        state: str,
        label_sha256: str | None,
        *,
        annotator: str | None = None,
        reviewer: str | None = None,
        comment: str | None = None,
    ) -> None: ...
    async def add_activity(
        self,
        dataset_id: int,
        filename: str,
        actor: str,
        action: str,
        label_sha256: str | None,
        comment: str | None = None,
    ) -> None: ...
    async def working_file(self, dataset_id: int, filename: str) -> WorkingFile | None: ...
    async def activity(
        self, dataset_id: int, filename: str | None = None, limit: int | None = None
    ) -> list[Activity]:
        """The activity log oldest first (one file's last ``limit`` entries if asked)."""

    async def set_reviews(
        self, dataset_id: int, rows: Sequence[tuple[str, str, str | None, str | None]]
    ) -> None:
        """Many ``set_review`` calls in one: (filename, state, label_sha256, annotator)."""

    async def add_activities(
        self, dataset_id: int, rows: Sequence[tuple[str, str, str, str | None]]
    ) -> None:
        """Many ``add_activity`` calls in one: (filename, actor, action, label_sha256)."""

    # annotation event streams (position: where an event sits in its stream)
    async def stream_offset(self, dataset_id: int, stream: str) -> int | None:
        """The highest position the stream has applied; None while it has none."""

    async def stream_state(self, dataset_id: int, stream: str) -> StreamState:
        """``{stream, offset, events, last_event_id, updated_at}`` (zeros and None
        for a stream that has nothing yet)."""

    async def known_event_ids(
        self, dataset_id: int, stream: str, event_ids: Collection[str]
    ) -> set[str]: ...
    async def add_events(
        self,
        dataset_id: int,
        stream: str,
        rows: Sequence[tuple[str, int, str, str, str | None]],
        actor: str,
    ) -> None:
        """``rows``: (event_id, position, filename, action, label_sha256)."""

    # model registry
    async def get_model(self, name: str) -> Model: ...
    async def ensure_model(self, name: str, task: str, actor: str) -> Model: ...
    async def list_models(self) -> list[ModelSummary]: ...
    async def add_model_version(self, model_id: int, **fields: Any) -> ModelVersion: ...
    async def set_model_metrics(self, version_id: int, metrics: dict[str, Any]) -> None: ...
    async def add_evaluation(
        self,
        evaluation_id: str,
        job_id: str,
        model_version_id: int,
        dataset_version_id: int,
        split: str,
        summary: dict[str, Any],
        settings: dict[str, Any],
        actor: str,
    ) -> Evaluation: ...
    async def evaluation(self, evaluation_id: str) -> Evaluation: ...
    async def evaluations_of(self, model_version_id: int) -> list[Evaluation]: ...
    async def model_version(self, model_id: int, ref: str) -> ModelVersion: ...
    async def model_versions(self, model_id: int) -> list[ModelVersion]: ...
    async def set_model_tag(
        self, model_id: int, name: str, version_id: int, actor: str
    ) -> None: ...

    # webhooks
    async def add_webhook(
        self, hook_id: str, url: str, events: list[str], secret: str, actor: str
    ) -> Webhook: ...
    async def list_webhooks(self) -> list[Webhook]: ...
    async def get_webhook(self, hook_id: str) -> Webhook: ...
    async def webhook_secret(self, hook_id: str) -> str: ...
    async def delete_webhook(self, hook_id: str) -> None: ...
    async def webhook_cursor(self, hook_id: str) -> int: ...
    async def advance_webhook(self, hook_id: str, event_id: int) -> None: ...
    async def log_delivery(
        self,
        hook_id: str,
        event_id: int,
        event_type: str,
        attempt: int,
        outcome: str,
        status_code: int | None,
        duration_ms: float,
    ) -> None:
        """One attempt: its outcome class (``appliance.domain.webhooks.Outcome``), never
        an error text, which would name the hosts and ports the url led to."""

    async def deliveries(self, hook_id: str, limit: int = 100) -> list[Delivery]:
        """``{id, event_id, type, attempt, outcome, status_code, error, duration_ms, at}``,
        newest first; ``error`` is the outcome's fixed wording."""


class Accounts(Protocol):
    """The box-wide unit of work: users, tokens, memberships, workspaces, and the
    audit chain (which spans every workspace)."""

    now: float

    async def count_users(self) -> int: ...
    async def create_user(self, username: str, password_hash: str, is_admin: bool) -> User: ...
    async def user_by_name(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash."""

    async def user_by_id(self, user_id: int) -> User | None: ...
    async def list_users(self) -> list[User]: ...
    async def add_token(
        self,
        token_id: str,
        user_id: int | None,
        kind: str,
        name: str,
        secret_hash: str,
        expires_at: float,
    ) -> Token: ...
    async def token(self, token_id: str) -> tuple[Token, str] | None:
        """The token and the hash of its secret."""

    async def tokens_of(self, user_id: int, kind: str = "pat") -> list[Token]: ...
    async def revoke_token(self, token_id: str) -> None: ...
    async def revoke_kind(self, kind: str) -> None: ...
    async def create_workspace(self, ws_id: str, description: str) -> Workspace: ...
    async def ensure_workspace_row(self, ws_id: str) -> None: ...
    async def workspace(self, ws_id: str) -> Workspace: ...
    async def has_workspace(self, ws_id: str) -> bool: ...
    async def all_workspaces(self) -> list[Workspace]: ...
    async def set_quota(self, ws_id: str, quota_bytes: int | None) -> None: ...
    async def role_of(self, ws_id: str, user_id: int) -> str | None: ...
    async def memberships_of(self, user_id: int) -> list[tuple[str, str]]: ...
    async def members(self, ws_id: str) -> list[tuple[User, str]]: ...
    async def set_role(self, ws_id: str, user_id: int, role: str | None) -> None: ...
    async def audit_box(
        self,
        ws: str | None,
        actor: str,
        action: str,
        target: str,
        outcome: str = "ok",
        **detail: Any,
    ) -> None: ...
    async def check_audit(self, checkpoints: Sequence[Checkpoint] = ()) -> ChainCheck:
        """Walk the whole chain, holding it against signed ``checkpoints``."""

    async def audit_head(self) -> tuple[int, str] | None:
        """The newest chained entry's (id, hash); None while nothing is chained."""

    async def workspaces_with_webhooks(self) -> list[str]:
        """Workspaces that have at least one live (not deleted) webhook."""

    async def fail_interrupted_jobs(self, why: str) -> int:
        """Fail running jobs and queued in-process jobs (after a restart); return how many."""

    async def active_jobs(self) -> list[ActiveJob]:
        """Governed jobs queued or running, box-wide, oldest first (the scheduler's view)."""


class Catalog(Protocol):
    name: str

    def writing(self, workspace: str) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def reading(self, workspace: str) -> AbstractAsyncContextManager[UnitOfWork]: ...
    def accounts(self, *, write: bool = False) -> AbstractAsyncContextManager[Accounts]: ...
    async def close(self) -> None: ...
