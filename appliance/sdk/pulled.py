"""A folder that ``ahoy dataset pull`` wrote, read back by an import: its ``.ahoy/``
is the pull's own (never imported as files), and holds each file's label document
and the split the pulled version gave it (layout: ``appliance.domain.pulled``).

A label document that is canonical JSON is sent as it is, so an unchanged one
keeps its ``label_sha256``; one edited by hand (any valid document) is sent in its
canonical form. An invalid one refuses the whole import, naming each.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.domain.canonical import canonical_json
from appliance.domain.labels.document import LabelError, parse_document
from appliance.domain.names import check_filename
from appliance.domain.pulled import MANIFEST, META, is_pull_manifest, label_path
from appliance.domain.split import SplitConfig, split_moves
from appliance.errors import ImportRejected, InvalidFilename
from appliance.ingest.scan import SourceFile


@dataclass(frozen=True)
class PulledFolder:
    root: Path
    document: dict[str, Any]
    by_path: dict[str, dict[str, Any]]  # where a file lies under root → its manifest row

    @property
    def source(self) -> str:
        return f"{self.document.get('dataset')}@{self.document.get('version')}"

    def data(self, files: list[SourceFile], prefix: str) -> list[SourceFile]:
        """The scanned files less the pull's own ``.ahoy/``."""
        return [f for f in files if not _owned(_rel(f.name, prefix))]

    def label_file(self, rel: str) -> str | None:
        """Where the label document of the file at ``rel`` is, if there is one: under
        the dataset filename the manifest gives it, else under ``rel`` itself."""
        row = self.by_path.get(rel)
        name = str(row["filename"]) if row else rel
        try:
            where = label_path(check_filename(name))
        except InvalidFilename:
            return None
        return where if (self.root / where).is_file() else None

    def label_documents(self, files: Iterable[SourceFile], prefix: str) -> dict[str, bytes]:
        """Dataset name → its label document's bytes, for each file that has one;
        raises ``ImportRejected`` naming every document that is not valid."""
        docs: dict[str, bytes] = {}
        problems: list[tuple[str, str]] = []
        real_root = os.path.realpath(self.root)
        for f in files:
            where = self.label_file(_rel(f.name, prefix))
            if where is None:
                continue
            real = os.path.realpath(self.root / where)
            if os.path.commonpath([real_root, real]) != real_root:
                problems.append((where, f"symlink points outside the import root (to {real})"))
                continue
            try:
                docs[f.name] = canonical_label((self.root / where).read_bytes(), where)
            except OSError as exc:
                problems.append((where, f"cannot read: {exc.strerror}"))
            except (ValueError, LabelError) as exc:
                problems.append((where, f"not a valid label document: {exc}"))
        if problems:
            raise ImportRejected(problems)
        return docs

    def report(
        self,
        files: list[SourceFile],
        prefix: str,
        digests: dict[str, str],
        attached: int,
        split_config: Any,
    ) -> dict[str, Any]:
        """What an import of this folder should say: which pull it was, how many
        label documents it attached (or could have, with ``labels``), and how many
        files the dataset's own split keeps in the split the pulled version gave
        them (a commit with the pulled ``split`` config keeps them all, unless the
        version pinned some: augmented copies)."""
        names = {_rel(f.name, prefix): f.name for f in files}
        placed = [
            (str(row["split"]), digests[names[rel]])
            for rel, row in self.by_path.items()
            if rel in names and row.get("split")
        ]
        ours = SplitConfig.from_dict(split_config)
        moves = split_moves(ours, placed)
        moved = {f"{a}->{b}": n for (a, b), n in sorted(moves.items()) if a != b}
        found = attached or sum(1 for rel in names if self.label_file(rel))
        return {
            "source": self.source,
            "manifest_hash": self.document.get("manifest_hash"),
            "labels_attached": attached,
            "labels_found": found,
            "split": {
                "dataset": str(ours),
                "pulled": _config_text(self.document.get("split")),
                "commit_options": _config_options(self.document.get("split")),
                "kept": sum(n for (a, b), n in moves.items() if a == b),
                "moved": sum(moved.values()),
                "moves": moved,
            },
        }


def read_pulled(root: Path) -> PulledFolder | None:
    """The pull that wrote ``root``, or None if ``root`` is not such a folder."""
    try:
        doc = json.loads((root / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    if not is_pull_manifest(doc):
        return None
    rows = {str(f["path"]): f for f in doc["files"] if isinstance(f.get("path"), str)}
    return PulledFolder(root, doc, rows)


def _rel(name: str, prefix: str) -> str:
    base = prefix.strip("/")
    return name[len(base) + 1 :] if base else name


def _owned(rel: str) -> bool:
    return rel == META or rel.startswith(META + "/")


def _config_text(raw: Any) -> str | None:
    try:
        return str(SplitConfig.from_dict(raw))
    except (KeyError, TypeError, ValueError):
        return None


def _config_options(raw: Any) -> str | None:
    """The ``ahoy dataset commit`` options that give a dataset this split."""
    try:
        cfg = SplitConfig.from_dict(raw)
    except (KeyError, TypeError, ValueError):
        return None
    ratios = ",".join(f"{n}={r:g}" for n, r in cfg.ratios)
    return f"--split {ratios} --seed {shlex.quote(cfg.seed)}"


def canonical_label(raw: bytes, where: str) -> bytes:
    """The bytes to store for a label document read from a file."""
    data = json.loads(raw)
    doc = parse_document(data, where)
    return raw if raw == canonical_json(data) else doc.to_bytes()
