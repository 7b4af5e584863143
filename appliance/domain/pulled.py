"""What a pull writes beside a version's files, so that the folder alone says which
exact data it holds, and how a later import reads it back.

    DEST/<filename>  or  DEST/<split>/<filename>   the files (``layout`` tree or split)
    DEST/.ahoy/manifest.json                       the version's manifest (below)
    DEST/.ahoy/labels/<filename>.json              each file's label document: the exact
                                                   bytes whose sha256 is its label_sha256

Labels are keyed by the dataset filename whatever the layout (``photos/a.jpg`` →
``.ahoy/labels/photos/a.jpg.json``), and the manifest names both paths per row.
The manifest's ``files`` are every row of the version (or of the one split
pulled), erased ones included with ``path: null``: the five manifest keys of each
(``filename, label_sha256, role, sha256, split``) are what ``manifest_hash`` is
computed from, so a whole pull can be checked against the version from the
folder alone (``fingerprint_of``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from appliance.domain.manifest import ManifestRow, fingerprint

META = ".ahoy"
MANIFEST = f"{META}/manifest.json"
LABELS = f"{META}/labels"
FORMAT = "ahoy.pull/1"
#: ``tree`` keeps the dataset's paths; ``split`` puts each file under ``<split>/``.
LAYOUTS = ("tree", "split")
ROW_KEYS = ("filename", "label_sha256", "role", "sha256", "split")


def label_path(filename: str) -> str:
    """Where a pull writes the label document of dataset file ``filename``."""
    return f"{LABELS}/{filename}.json"


def file_path(filename: str, split: str, layout: str) -> str:
    """Where a pull writes dataset file ``filename`` in ``layout``."""
    return f"{split}/{filename}" if layout == "split" else filename


def clashes(filenames: Iterable[str]) -> list[str]:
    """Files that a tree-layout pull would write inside its own ``.ahoy`` folder."""
    return sorted(n for n in filenames if n == META or n.startswith(META + "/"))


def manifest_document(
    *,
    dataset: str,
    version: int,
    manifest_hash: str,
    split_config: object,
    layout: str,
    only_split: str | None,
    rows: Iterable[Mapping[str, Any]],
    written: set[str],
    labelled: set[str],
    erased: list[dict[str, Any]],
) -> dict[str, Any]:
    """The ``.ahoy/manifest.json`` of a pull. ``rows`` are manifest rows (dicts with
    at least ``ROW_KEYS``); ``written`` the filenames whose files were written,
    ``labelled`` those whose label documents were."""
    files = []
    for r in sorted(rows, key=lambda r: str(r["filename"])):
        name = str(r["filename"])
        entry = {k: r.get(k) for k in ROW_KEYS}
        entry["path"] = file_path(name, str(r["split"]), layout) if name in written else None
        entry["labels"] = label_path(name) if name in labelled else None
        files.append(entry)
    return {
        "format": FORMAT,
        "dataset": dataset,
        "version": version,
        "manifest_hash": manifest_hash,
        "split": split_config,
        "layout": layout,
        "only_split": only_split,
        "files": files,
        "erased": erased,
    }


def fingerprint_of(document: Mapping[str, Any]) -> str:
    """The ``manifest_hash`` the document's rows hash to (equal to the version's
    own when the pull was of the whole version, not one split)."""
    return fingerprint(
        ManifestRow(
            str(f["filename"]),
            str(f["sha256"]),
            f.get("label_sha256"),
            str(f["role"]),
            str(f["split"]),
        )
        for f in document["files"]
    )


def is_pull_manifest(document: object) -> bool:
    return (
        isinstance(document, dict)
        and document.get("format") == FORMAT
        and isinstance(document.get("files"), list)
        and all(
            isinstance(f, dict) and isinstance(f.get("filename"), str) for f in document["files"]
        )
    )
