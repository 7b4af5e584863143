"""A COCO dataset in: one annotations JSON and a folder of its images.

Everything is checked here before a byte is sent: the JSON (every problem the
COCO reader finds, each with where it is) and that every image it names is in
the folder. Each image gets a label document even without annotations, so its
COCO record (size, id, license...) survives the round trip. The categories and
top-level keys are kept beside the schema, so a COCO export writes them back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.domain.labels.coco import coco_to_documents
from appliance.errors import ImportRejected
from appliance.ingest.scan import scan_tree
from appliance.progress import NoProgress, Progress

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
    labels = {name: doc.to_bytes() for name, doc in imported.documents.items()}
    up = upload_labelled(client, ws, dataset, images, labels, progress or NoProgress())
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
        "uploaded_blobs": up.images_sent + up.labels_sent,
        "uploaded_bytes": up.image_bytes_sent,
        **dict(up.staged),
    }
