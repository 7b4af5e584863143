"""A COCO dataset in: one annotations JSON and a folder of its images.

Everything is checked here before a byte is sent: the JSON (every problem the
COCO reader finds, each with where it is) and that every image it names is in
the folder. Each image gets a label document even without annotations, so its
COCO record (size, id, license...) survives the round trip. The categories and
top-level keys are kept beside the schema, so a COCO export writes them back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.domain.labels.coco import coco_to_documents
from appliance.errors import ImportRejected
from appliance.ingest.scan import scan_tree
from appliance.progress import NoProgress, Progress
from appliance.sdk.yolo import _tar

if TYPE_CHECKING:
    from appliance.sdk.client import Client


def import_coco(
    client: Client,
    ws: str | None,
    dataset: str,
    annotations: Path,
    images_dir: Path,
    progress: Progress | None = None,
) -> dict[str, Any]:
    from appliance.sdk.upload import _hash_and_send

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
    images = [replace(files[name]) for name in imported.documents]
    client.get_dataset(ws, dataset)
    digests, _, sent, sent_bytes = _hash_and_send(
        client, ws, images, {}, 0, progress or NoProgress()
    )
    labels = {name: doc.to_bytes() for name, doc in imported.documents.items()}
    label_digests = {n: hashlib.sha256(b).hexdigest() for n, b in labels.items()}
    docs = {label_digests[n]: labels[n] for n in labels}
    lacking = client.missing_blobs(ws, docs)
    if lacking:
        client.upload_blob_tar(ws, _tar({sha: docs[sha] for sha in lacking}))
    rows = [
        {
            "name": img.name,
            "sha256": digests[img.name],
            "size": img.size,
            "label_sha256": label_digests[img.name],
            "label_size": len(labels[img.name]),
        }
        for img in images
    ]
    staged = client.stage_files(ws, dataset, rows)
    classes = [{"id": i, "name": c.name} for i, c in enumerate(imported.categories)]
    client.set_schema(
        ws,
        dataset,
        classes=classes,
        coco_categories=[c.as_dict() for c in imported.categories],
        coco_top=dict(imported.top),
    )
    return {
        "images": len(images),
        "annotations": len(raw.get("annotations", [])),
        "categories": len(classes),
        "uploaded_blobs": sent + len(lacking),
        "uploaded_bytes": sent_bytes,
        **dict(staged),
    }
