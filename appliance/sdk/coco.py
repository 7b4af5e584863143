"""A COCO dataset in: one annotations JSON and a folder of its images.

Everything is checked here before a byte is sent: the JSON (every problem the
COCO reader finds, each with where it is) and that every image it names is in
the folder. Each image gets a label document even without annotations, so its
COCO record (size, id, license...) survives the round trip. The categories and
top-level keys are kept beside the schema, so a COCO export writes them back; the
schema itself changes only as ``label_import.settle_schema`` allows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.domain.labels.coco import class_names, coco_to_documents
from appliance.domain.labels.schema import schema_from_ids
from appliance.errors import ImportRejected
from appliance.ingest.scan import scan_tree
from appliance.progress import NoProgress, Progress
from appliance.sdk.label_import import settle_schema

if TYPE_CHECKING:
    from appliance.sdk.client import Client


def import_coco(
    client: Client,
    ws: str | None,
    dataset: str,
    annotations: Path,
    images_dir: Path,
    progress: Progress | None = None,
    mapping: Mapping[int, int | None] | None = None,
) -> dict[str, Any]:
    """The categories become classes 0..n-1 in COCO id order (their ids are kept
    beside the schema, so export writes them back). Into a dataset with a schema,
    a change that would re-mean existing labels is refused before anything is
    sent, unless ``mapping`` (old id → new id, None: drop) says where each goes."""
    from appliance.sdk.upload import upload_labelled

    try:
        raw = json.loads(annotations.read_text())
    except (OSError, ValueError) as exc:
        raise ImportRejected([(str(annotations), f"cannot read it as JSON: {exc}")]) from None
    imported = coco_to_documents(raw)
    problems = [(p.where, p.problem) for p in imported.problems]
    files = {f.name: f for f in scan_tree(images_dir)}
    problems += [
        (f"images: {name}", f"the annotations name it but {images_dir} has no such file")
        for name in imported.documents
        if name not in files
    ]
    if problems:
        raise ImportRejected(problems)
    images = [files[name] for name in imported.documents]
    client.get_dataset(ws, dataset)
    incoming = schema_from_ids(class_names(imported.categories))
    coco = {
        "categories": [c.as_dict() for c in imported.categories],
        "top": dict(imported.top),
    }
    schema = settle_schema(client, ws, dataset, incoming, mapping, coco)
    labels = {name: doc.to_bytes() for name, doc in imported.documents.items()}
    up = upload_labelled(client, ws, dataset, images, labels, progress or NoProgress())
    return {
        "images": len(images),
        "annotations": len(raw.get("annotations", [])),
        "categories": len(imported.categories),
        "schema": schema,
        "uploaded_blobs": up.images_sent + up.labels_sent,
        "uploaded_bytes": up.image_bytes_sent,
        **dict(up.staged),
    }
