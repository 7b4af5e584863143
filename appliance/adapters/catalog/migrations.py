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
]
