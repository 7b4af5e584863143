"""Schema migrations, versioned in code. Append only: never edit a shipped step."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "data engine",
        """
CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL
);
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    slug TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    split_json TEXT NOT NULL,
    created_at REAL NOT NULL,
    deleted_at REAL
);
CREATE UNIQUE INDEX datasets_live_slug ON datasets(workspace_id, slug) WHERE deleted_at IS NULL;
CREATE TABLE files (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL,
    orphaned_at REAL,
    erased_at REAL,
    PRIMARY KEY (workspace_id, sha256)
) WITHOUT ROWID;
CREATE TABLE dataset_files (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    label_sha256 TEXT,
    role TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (dataset_id, filename)
) WITHOUT ROWID;
CREATE INDEX dataset_files_sha ON dataset_files(sha256);
CREATE TABLE dataset_versions (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    number INTEGER NOT NULL,
    manifest_hash TEXT NOT NULL,
    split_json TEXT NOT NULL,
    parent_id INTEGER REFERENCES dataset_versions(id),
    created_by TEXT NOT NULL,
    message TEXT NOT NULL,
    file_count INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL,
    created_at REAL NOT NULL,
    deleted_at REAL,
    UNIQUE (dataset_id, number)
);
CREATE TABLE version_files (
    version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    label_sha256 TEXT,
    role TEXT NOT NULL,
    split TEXT NOT NULL,
    PRIMARY KEY (version_id, filename)
) WITHOUT ROWID;
CREATE INDEX version_files_sha ON version_files(sha256);
CREATE TABLE version_tags (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    name TEXT NOT NULL,
    version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
    updated_at REAL NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (dataset_id, name)
);
CREATE TABLE version_holds (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
    holder_kind TEXT NOT NULL,
    holder_ref TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (version_id, holder_kind, holder_ref)
);
CREATE TABLE erasures (
    id INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    sha256 TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    erased_at REAL NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    workspace_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail_json TEXT NOT NULL,
    at REAL NOT NULL
);
""",
    ),
    (
        2,
        "identity, audit chain, jobs, webhooks, idempotency",
        """
ALTER TABLE workspaces ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN quota_bytes INTEGER;
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    disabled_at REAL
);
CREATE TABLE memberships (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked_at REAL,
    last_used_at REAL
);
CREATE INDEX tokens_user ON tokens(user_id);
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN entry_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_log_ws ON audit_log(workspace_id, id);
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    params_json TEXT NOT NULL,
    progress_json TEXT NOT NULL DEFAULT '{}',
    result_json TEXT,
    error_json TEXT,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL
);
CREATE INDEX jobs_ws ON jobs(workspace_id, created_at);
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    url TEXT NOT NULL,
    events_json TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    deleted_at REAL
);
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id),
    event_id INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms REAL,
    at REAL NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);
CREATE TABLE webhook_cursor (
    webhook_id TEXT PRIMARY KEY REFERENCES webhooks(id),
    last_event_id INTEGER NOT NULL
);
CREATE TABLE idempotency_keys (
    workspace_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (workspace_id, principal, key)
);
""",
    ),
    (
        3,
        "label documents as references, label schemas",
        """
CREATE INDEX dataset_files_label ON dataset_files(label_sha256) WHERE label_sha256 IS NOT NULL;
CREATE INDEX version_files_label ON version_files(label_sha256) WHERE label_sha256 IS NOT NULL;
CREATE TABLE dataset_label_schemas (
    dataset_id INTEGER PRIMARY KEY REFERENCES datasets(id),
    schema_json TEXT NOT NULL,
    updated_at REAL NOT NULL,
    updated_by TEXT NOT NULL
);
""",
    ),
    (
        4,
        "annotation work: review states, activity, the annotation event stream",
        """
CREATE TABLE label_reviews (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    filename TEXT NOT NULL,
    state TEXT NOT NULL,
    label_sha256 TEXT,
    annotator TEXT,
    reviewer TEXT,
    comment TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (dataset_id, filename)
) WITHOUT ROWID;
CREATE INDEX label_reviews_state ON label_reviews(dataset_id, state);
CREATE TABLE label_activity (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    filename TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    label_sha256 TEXT,
    comment TEXT,
    at REAL NOT NULL
);
CREATE INDEX label_activity_ds ON label_activity(dataset_id, at);
CREATE TABLE annotation_events (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    stream TEXT NOT NULL,
    event_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    filename TEXT NOT NULL,
    action TEXT NOT NULL,
    label_sha256 TEXT,
    actor TEXT NOT NULL,
    received_at REAL NOT NULL,
    PRIMARY KEY (dataset_id, stream, event_id)
) WITHOUT ROWID;
CREATE INDEX annotation_events_position ON annotation_events(dataset_id, stream, position);
""",
    ),
    (
        5,
        "governed jobs: resource requests, admission, process groups, events, artifacts",
        """
ALTER TABLE jobs ADD COLUMN request_json TEXT;
ALTER TABLE jobs ADD COLUMN admission_json TEXT;
ALTER TABLE jobs ADD COLUMN devices TEXT;
ALTER TABLE jobs ADD COLUMN pgid INTEGER;
ALTER TABLE jobs ADD COLUMN cancel_requested_at REAL;
CREATE INDEX jobs_state ON jobs(state, created_at);
CREATE TABLE job_events (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data_json TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE TABLE job_artifacts (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (job_id, name)
) WITHOUT ROWID;
CREATE INDEX job_artifacts_sha ON job_artifacts(sha256);
""",
    ),
    (
        6,
        "model registry: models, versions tied to a dataset version and a run, tags",
        """
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    task TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (workspace_id, name)
);
CREATE TABLE model_versions (
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id),
    number INTEGER NOT NULL,
    dataset_version_id INTEGER REFERENCES dataset_versions(id),
    run_id TEXT REFERENCES jobs(id),
    source TEXT NOT NULL,
    weights_sha256 TEXT NOT NULL,
    weights_size INTEGER NOT NULL,
    format TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    code_json TEXT NOT NULL,
    config_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (model_id, number),
    CHECK (run_id IS NULL OR dataset_version_id IS NOT NULL)
);
CREATE INDEX model_versions_dataset ON model_versions(dataset_version_id);
CREATE INDEX model_versions_weights ON model_versions(weights_sha256);
CREATE TABLE model_tags (
    model_id INTEGER NOT NULL REFERENCES models(id),
    name TEXT NOT NULL,
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    updated_by TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (model_id, name)
) WITHOUT ROWID;
""",
    ),
    (
        7,
        "pinned splits in the working area; versions derived from another version",
        """
ALTER TABLE dataset_files ADD COLUMN split TEXT;
CREATE TABLE version_derivations (
    version_id INTEGER PRIMARY KEY REFERENCES dataset_versions(id),
    source_version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
    kind TEXT NOT NULL,
    recipe_sha256 TEXT NOT NULL,
    recipe_json TEXT NOT NULL,
    run_id TEXT REFERENCES jobs(id)
);
CREATE INDEX version_derivations_source ON version_derivations(source_version_id);
""",
    ),
    (
        8,
        "evaluations; exported model versions name their source version",
        """
ALTER TABLE model_versions ADD COLUMN parent_version_id INTEGER REFERENCES model_versions(id);
CREATE TABLE evaluations (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
    split TEXT NOT NULL,
    summary_json TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX evaluations_model ON evaluations(model_version_id);
CREATE INDEX evaluations_data ON evaluations(dataset_version_id);
""",
    ),
    (
        9,
        "webhook deliveries keep an outcome class, not error texts naming hosts and ports",
        """
ALTER TABLE webhook_deliveries ADD COLUMN outcome TEXT;
UPDATE webhook_deliveries SET outcome = CASE
    WHEN status_code BETWEEN 200 AND 299 THEN 'delivered'
    WHEN status_code IS NOT NULL THEN 'http_status'
    WHEN error LIKE '%Timeout%' THEN 'timed_out'
    ELSE 'connection_failed'
END;
UPDATE webhook_deliveries SET error = NULL;
""",
    ),
    (
        10,
        "one job system: a job the old in-process runner left unended is failed",
        """
UPDATE jobs SET state = 'failed',
    finished_at = (julianday('now') - 2440587.5) * 86400.0,
    error_json = '{"code": "interrupted", "detail": "the appliance restarted while it ran"}'
WHERE request_json IS NULL AND state IN ('queued', 'running');
""",
    ),
]
