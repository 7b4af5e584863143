"""Row ↔ record conversions shared by the SQLite repositories."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from appliance.domain.records import Dataset, Version
from appliance.domain.split import SplitConfig

DATASET_COLUMNS = "id, workspace_id, slug, description, split_json, created_at, deleted_at"
VERSION_COLUMNS = (
    "v.id, v.dataset_id, v.number, v.manifest_hash, v.split_json, v.parent_id, "
    "(SELECT p.number FROM dataset_versions p WHERE p.id = v.parent_id), "
    "v.created_by, v.message, v.file_count, v.total_bytes, v.created_at, "
    "(SELECT group_concat(t.name, ',') FROM version_tags t WHERE t.version_id = v.id), "
    "v.deleted_at"
)


def split_json(split: SplitConfig) -> str:
    return json.dumps(split.as_dict(), sort_keys=True)


def to_dataset(row: Sequence[Any]) -> Dataset:
    return Dataset(
        id=row[0],
        workspace=row[1],
        slug=row[2],
        description=row[3],
        split=SplitConfig.from_dict(json.loads(row[4])),
        created_at=row[5],
        deleted_at=row[6],
    )


def to_version(row: Sequence[Any]) -> Version:
    return Version(
        id=row[0],
        dataset_id=row[1],
        number=row[2],
        manifest_hash=row[3],
        split=SplitConfig.from_dict(json.loads(row[4])),
        parent_id=row[5],
        parent_number=row[6],
        created_by=row[7],
        message=row[8],
        file_count=row[9],
        total_bytes=row[10],
        created_at=row[11],
        tags=tuple(sorted(row[12].split(","))) if row[12] else (),
        deleted_at=row[13],
    )
