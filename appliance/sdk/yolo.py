"""A YOLO dataset folder in and out: ``data.yaml``, ``images/<split>/...`` and
``labels/<split>/....txt`` (Ultralytics' layout).

In: every label file is parsed here first; any problem (bad class id, value out
of 0..1, wrong field count, unreadable data.yaml) refuses the whole import with
each file and line listed, before a byte is sent. Images go up through the usual
dedup upload; each label file becomes a canonical label document, uploaded as a
blob and staged with its image, with the image's size read from its header.
Class ids stay as data.yaml numbers them (gaps too); the dataset's schema gets
those classes first (``label_import.settle_schema``: a change that would re-mean
existing labels is refused unless mapped).

Out: the appliance writes the version in its frozen split; this side unpacks the
stream safely (plain files under ``dest`` only, never through a link there).
"""

from __future__ import annotations

import tarfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from appliance.destination import Destination, chunks_of
from appliance.domain.labels import classify
from appliance.domain.labels.document import LabelError
from appliance.domain.labels.schema import schema_from_ids
from appliance.domain.labels.yolo import YoloSpec, parse_yolo, yolo_names
from appliance.domain.names import check_filename, role_for
from appliance.errors import Conflict, ImportRejected, InvalidFilename
from appliance.ingest.image_size import image_size
from appliance.ingest.scan import SourceFile, scan_tree
from appliance.progress import NoProgress, Progress
from appliance.sdk.errors import ARCHIVE_BREAKS, TransferError, broken_archive
from appliance.sdk.label_import import settle_schema, split_report

if TYPE_CHECKING:
    from appliance.sdk.client import Client


def read_data_yaml(root: Path) -> tuple[dict[int, str], tuple[int, int] | None]:
    """data.yaml's classes (id → name, ids as written, gaps kept) and ``kpt_shape``."""
    path = root / "data.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ImportRejected([("data.yaml", f"cannot read it: {exc}")]) from None
    try:
        names = yolo_names(data.get("names") if isinstance(data, dict) else None)
    except LabelError as exc:
        raise ImportRejected([(exc.where, exc.problem)]) from None
    kpt = data.get("kpt_shape")
    shape = (int(kpt[0]), int(kpt[1])) if isinstance(kpt, list) and len(kpt) == 2 else None
    return names, shape


def _dataset_name(source: SourceFile) -> str | None:
    """``images/<split>/a/b.jpg`` → ``a/b.jpg``; None for files not under an images dir."""
    parts = PurePosixPath(source.name).parts
    if "images" not in parts:
        return None
    i = parts.index("images")
    rest = parts[i + 2 :] if len(parts) > i + 2 else ()
    return "/".join(rest) if rest else None


def import_yolo(
    client: Client,
    ws: str | None,
    dataset: str,
    root: Path,
    progress: Progress | None = None,
    mapping: Mapping[int, int | None] | None = None,
) -> dict[str, Any]:
    """Class ids stay as data.yaml numbers them. The dataset's schema gets the
    file's classes before anything is sent; a change that would re-mean existing
    labels is refused unless ``mapping`` (old id → new id, None: drop) says where
    each goes. The answer's ``split`` says how many images the dataset's
    content-hash split moves out of the folder's own train/val/test."""
    from appliance.sdk.upload import upload_labelled

    if not (root / "data.yaml").exists() and any((root / s).is_dir() for s in classify.SPLITS):
        return import_classify(client, ws, dataset, root, progress)
    names, kpt = read_data_yaml(root)
    incoming = schema_from_ids(names)
    spec = YoloSpec("pose" if kpt else "segment", incoming.slots, kpt, frozenset(names))
    files = scan_tree(root)
    by_path = {f.name: f for f in files}
    images: list[SourceFile] = []
    folder_split: dict[str, str] = {}
    labels: dict[str, bytes] = {}
    problems: list[tuple[str, str]] = []
    for f in files:
        name = _dataset_name(f)
        if name is None or role_for(name) != "image":
            continue
        label_path = str(PurePosixPath(f.name.replace("images/", "labels/", 1)).with_suffix(".txt"))
        images.append(replace(f, name=name))
        folder_split[name] = _folder_split(f)
        label_file = by_path.get(label_path)
        if label_file is None:
            continue
        text = Path(label_file.path).read_text()
        doc, found = parse_yolo(text, spec, label_path)
        problems += [(p.where, p.problem) for p in found]
        if doc.objects:
            # COCO export needs each image's size: read it from the header now
            labels[name] = replace(doc, size=image_size(Path(f.path))).to_bytes()
    seen: set[str] = set()
    for img in images:
        if img.name in seen:
            problems.append((img.name, "this image name appears in more than one split"))
        seen.add(img.name)
    if problems:
        raise ImportRejected(problems)
    if not images:
        raise ImportRejected([(str(root), "no images under images/<split>/")])
    client.get_dataset(ws, dataset)
    schema = settle_schema(client, ws, dataset, incoming, mapping)
    up = upload_labelled(client, ws, dataset, images, labels, progress or NoProgress())
    placed = ((folder_split[i.name], up.digests[i.name]) for i in images)
    return {
        "images": len(images),
        "labelled": len(labels),
        "uploaded_blobs": up.images_sent + up.labels_sent,
        "uploaded_bytes": up.image_bytes_sent,
        "schema": schema,
        "split": split_report(client, ws, dataset, placed),
        **dict(up.staged),
    }


def _folder_split(source: SourceFile) -> str:
    """``images/<split>/...`` → ``<split>``."""
    parts = PurePosixPath(source.name).parts
    return parts[parts.index("images") + 1]


def import_classify(
    client: Client, ws: str | None, dataset: str, root: Path, progress: Progress | None = None
) -> dict[str, Any]:
    """Ultralytics' classify layout, ``<split>/<class>/<image>``: each image is kept as
    ``<class>/<image>`` with its class as its label document's one tag."""
    from appliance.sdk.upload import upload_labelled

    files = [f for f in scan_tree(root) if role_for(f.name) == "image"]
    found, problems = classify.parse_layout([f.name for f in files])
    if not found and not problems:
        problems = [(str(root), "no images under <split>/<class>/ and no data.yaml")]
    if problems:
        raise ImportRejected(problems)
    by_path = {f.name: f for f in files}
    images = [replace(by_path[path], name=name) for path, name, _ in found]
    labels = {name: classify.document_for(cls).to_bytes() for _, name, cls in found}
    client.get_dataset(ws, dataset)
    up = upload_labelled(client, ws, dataset, images, labels, progress or NoProgress())
    names = classify.class_names(found)
    if not client.get_schema(ws, dataset).get("classes"):
        client.set_schema(ws, dataset, classes=[{"id": i, "name": n} for i, n in enumerate(names)])
    return {
        "images": len(images),
        "labelled": len(labels),
        "classes": names,
        "uploaded_blobs": up.images_sent + up.labels_sent,
        "uploaded_bytes": up.image_bytes_sent,
        **dict(up.staged),
    }


def export_yolo(
    client: Client,
    ws: str | None,
    dataset: str,
    ref: str | int,
    dest: Path,
    *,
    task: str = "detect",
    split: str | None = None,
    force: bool = False,
    format: str = "yolo",
) -> dict[str, Any]:
    """Unpack the appliance's export (``yolo`` or ``coco``) of a version into ``dest``;
    ``warnings`` in the answer say what the appliance flagged (no val images)."""
    with Destination.open(dest) as out:
        if out.entries() and not force:
            raise Conflict(f"{dest} is not empty", hint="export into a new folder or pass --force")
        resp = client.export_stream(ws, dataset, ref, task=task, split=split, format=format)
        warning = resp.headers.get("X-Ahoy-Warning")
        count, nbytes = _unpack(resp, out)
    return {
        "dataset": dataset,
        "files": count,
        "bytes": nbytes,
        "dest": str(dest),
        "warnings": [warning] if warning else [],
    }


def _unpack(resp: Any, out: Destination) -> tuple[int, int]:
    count = nbytes = 0
    try:
        with tarfile.open(fileobj=resp.raw, mode="r|") as tar:
            for member in tar:
                if not member.isreg():
                    raise TransferError("unsafe-archive", f"member {member.name!r} is not a file")
                try:
                    name = check_filename(member.name)
                except InvalidFilename as exc:
                    raise TransferError(
                        "unsafe-archive", f"{member.name!r}: {exc.reason}"
                    ) from None
                src = tar.extractfile(member)
                assert src is not None
                out.write(name, chunks_of(src))
                count += 1
                nbytes += member.size
    except ARCHIVE_BREAKS as exc:
        raise broken_archive(
            exc, "the export", count, again="export again", resume="export again with --force"
        ) from None
    finally:
        resp.close()
    return count, nbytes
