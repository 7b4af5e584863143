"""Rebuild a version from the appliance, byte for byte, verifying each file: its
files, each file's label document and its manifest (where each lies:
``appliance.domain.pulled``), so the folder alone says what data it is.

The archive is read as a stream, one member at a time; every member must be a
regular file the manifest lists under a safe name (a file, or the label document
of one), is written aside while it is hashed, and is renamed into place only if
its sha256 matches the manifest's ``sha256`` (files) or ``label_sha256`` (label
documents). All writes go through ``appliance.destination``: nothing inside
``dest`` is followed.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from appliance.destination import Destination, write_file
from appliance.domain.names import check_filename
from appliance.domain.pulled import LAYOUTS, MANIFEST, META, clashes, file_path, label_path
from appliance.domain.pulled import manifest_document as pull_manifest
from appliance.errors import Conflict, InvalidInput
from appliance.progress import NoProgress, Progress
from appliance.sdk.errors import ARCHIVE_BREAKS, TransferError, broken_archive
from appliance.sdk.tarstream import CHUNK, check_member
from appliance.sdk.types import ManifestRow, PullReport

if TYPE_CHECKING:
    from appliance.sdk.client import Client

_ROW_KEYS = ("filename", "label_sha256", "role", "sha256", "split")


def pull(
    client: Client,
    ws: str | None,
    dataset: str,
    ref: str | int,
    dest: Path,
    *,
    split: str | None = None,
    layout: str = "tree",
    manifest_out: Path | None = None,
    force: bool = False,
    bare: bool = False,
    progress: Progress | None = None,
) -> PullReport:
    """Write version ``ref`` (or one ``split`` of it) under ``dest``.

    ``layout="tree"`` keeps the imported paths; ``"split"`` puts each file under
    ``<split>/<filename>``. Beside them, ``dest/.ahoy/`` gets the manifest
    (``manifest.json``) and each file's label document (``labels/<filename>.json``),
    unless ``bare``; ``manifest_out`` is a copy of the manifest put elsewhere.
    Erased files (and their label documents) are not restored; the report and the
    manifest list them. ``dest`` must be empty or missing unless ``force``.
    """
    if layout not in LAYOUTS:
        raise InvalidInput(f"layout {layout!r} is not known", hint=f"use one of {LAYOUTS}")
    progress = progress or NoProgress()
    version = client.get_version(ws, dataset, ref)
    number = version["number"]  # pinned: a tag may move while we pull
    rows = [r for r in client.manifest(ws, dataset, number) if split is None or r["split"] == split]
    targets: dict[str, str] = {}
    for r in rows:
        name = check_filename(r["filename"])  # defence in depth: never write outside dest
        targets[name] = file_path(name, r["split"], layout)
    if not bare and layout == "tree" and (clash := clashes(targets)):
        raise Conflict(
            f"{len(clash)} files of {dataset}@{number} are under {META}/, where a pull keeps"
            f" its manifest and label documents (first: {clash[0]})",
            hint="pull with --layout split, or --bare for the files alone",
        )
    expected = {r["filename"]: r["sha256"] for r in rows}
    labels = {} if bare else {r["filename"]: r["label_sha256"] for r in rows if r["label_sha256"]}
    with Destination.open(dest) as out:
        if out.entries() and not force:
            raise Conflict(f"{dest} is not empty", hint="pull into a new folder or pass --force")
        got = _Extract(client, ws, dataset, number, out, targets, expected, labels, progress)
        got.run(split, version)
        # The archive leaves out erased content; the manifest still lists it.
        lost = [r for r in rows if r["filename"] not in got.written]
        tombstones = {e["filename"]: e for e in client.erased(ws, dataset, number)} if lost else {}
        erased = [tombstones.get(r["filename"]) or _erased(r) for r in lost]
        doc = pull_manifest(
            dataset=dataset,
            version=number,
            manifest_hash=version["manifest_hash"],
            split_config=version.get("split"),
            layout=layout,
            only_split=split,
            rows=rows,
            written=got.written,
            labelled=got.labelled,
            erased=erased,
        )
        data = json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode()
        if not bare:
            out.write(MANIFEST, [data])
    if manifest_out is not None:
        write_file(manifest_out, [data])
    return PullReport(
        number,
        version["manifest_hash"],
        len(got.written),
        got.bytes,
        erased,
        labels=len(got.labelled),
        meta=None if bare else str(dest / META),
    )


class _Extract:
    """One archive read into ``out``: files checked against ``expected`` (filename →
    sha256), label documents against ``labels`` (filename → label_sha256)."""

    def __init__(
        self,
        client: Client,
        ws: str | None,
        dataset: str,
        number: int,
        out: Destination,
        targets: dict[str, str],
        expected: dict[str, str],
        labels: dict[str, str],
        progress: Progress,
    ) -> None:
        self.client, self.ws, self.dataset, self.number = client, ws, dataset, number
        self.out, self.targets, self.expected, self.progress = out, targets, expected, progress
        self.docs = {label_path(name): (name, sha) for name, sha in labels.items()}
        self.written: set[str] = set()
        self.labelled: set[str] = set()
        self.bytes = 0

    def run(self, split: str | None, version: Any) -> None:
        resp = self.client.archive(
            self.ws, self.dataset, self.number, split, labels=bool(self.docs)
        )
        try:
            announced = _header_int(resp.headers, "X-Ahoy-Files")
            sent_hash = resp.headers.get("X-Ahoy-Manifest-Hash")
            if sent_hash and sent_hash != version["manifest_hash"]:
                raise TransferError(
                    "bad-archive", f"the archive is of manifest {sent_hash}, not the one asked for"
                )
            total = _header_int(resp.headers, "X-Ahoy-Bytes") or int(
                version.get("total_bytes") or 0
            )
            self.progress.start("pull", total, unit="bytes")
            resp.raw.decode_content = True
            names = set(self.expected) | set(self.docs)
            with tarfile.open(fileobj=resp.raw, mode="r|") as tar:
                for member in tar:
                    if member.isdir():
                        continue  # folders come from the files' own paths
                    name = check_member(member, names)
                    src = tar.extractfile(member)
                    assert src is not None  # a regular file
                    if name in self.docs:
                        self._label(name, src)
                    else:
                        self._file(name, src, member.size)
            if announced is not None and len(self.written) != announced:
                raise TransferError(
                    "incomplete-archive",
                    f"the archive ended after {len(self.written)} of {announced} files",
                    hint="pull again; if it persists run `ahoy verify --deep`",
                )
            self._check_labels()
        except ARCHIVE_BREAKS as exc:
            raise broken_archive(
                exc,
                "the archive",
                len(self.written),
                again="pull again",
                resume="pull again with --force (every file written is whole and verified)",
            ) from None
        finally:
            resp.close()
            self.progress.finish()

    def _file(self, name: str, src: IO[bytes], size: int) -> None:
        if name in self.written:
            raise TransferError("unsafe-archive", f"archive member {name!r} repeats")
        _write_verified(self.out, self.targets[name], src, self.expected[name], self.progress)
        self.written.add(name)
        self.bytes += size

    def _label(self, path: str, src: IO[bytes]) -> None:
        name, sha = self.docs[path]
        if name in self.labelled:
            raise TransferError("unsafe-archive", f"archive member {path!r} repeats")
        _write_verified(self.out, path, src, sha, NoProgress())
        self.labelled.add(name)

    def _check_labels(self) -> None:
        """Every written file that has a label document got it."""
        wanted = {name for name, _ in self.docs.values() if name in self.written}
        if lacking := sorted(wanted - self.labelled):
            raise TransferError(
                "incomplete-archive",
                f"the archive ended without the label documents of {len(lacking)} files"
                f" (first: {lacking[0]})",
                hint="pull again; an appliance older than this client sends none: update it",
            )


def _write_verified(
    out: Destination, name: str, src: IO[bytes], sha256: str, progress: Progress
) -> None:
    """Write aside while hashing, then rename: a file is either absent or whole and right."""
    h = hashlib.sha256()

    def chunks() -> Iterator[bytes]:
        while chunk := src.read(CHUNK):
            h.update(chunk)
            yield chunk
            progress.advance(len(chunk))

    def check() -> None:
        if h.hexdigest() != sha256:
            raise TransferError(
                "hash-mismatch",
                f"{name}: received sha256:{h.hexdigest()}, the manifest says sha256:{sha256}",
                hint="the download was damaged; pull again (`ahoy verify --deep` if it repeats)",
            )

    out.write(name, chunks(), check=check)


def _erased(row: ManifestRow) -> dict[str, Any]:
    extra = {k: v for k, v in dict(row).items() if k not in _ROW_KEYS}
    return {"filename": row["filename"], "sha256": row["sha256"], **extra}


def _header_int(headers: Any, name: str) -> int | None:
    raw = headers.get(name)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None
