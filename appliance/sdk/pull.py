"""Rebuild a version's files from the appliance, byte for byte, verifying each one.

The archive is read as a stream, one member at a time; every member must be a
regular file the manifest lists under a safe name, is written aside while it is
hashed, and is renamed into place only if its sha256 matches the manifest. All
writes go through ``appliance.destination``: nothing inside ``dest`` is followed.
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
from appliance.errors import Conflict, InvalidInput
from appliance.progress import NoProgress, Progress
from appliance.sdk.errors import TransferError
from appliance.sdk.tarstream import CHUNK, check_member
from appliance.sdk.types import ManifestRow, PullReport

if TYPE_CHECKING:
    from appliance.sdk.client import Client

LAYOUTS = ("tree", "split")
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
    progress: Progress | None = None,
) -> PullReport:
    """Write version ``ref`` (or one ``split`` of it) under ``dest``.

    ``layout="tree"`` keeps the imported paths; ``"split"`` puts each file under
    ``<split>/<filename>``. Erased files are not restored; the report lists them.
    ``dest`` must be empty or missing unless ``force``.
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
        targets[name] = f"{r['split']}/{name}" if layout == "split" else name
    expected = {r["filename"]: r["sha256"] for r in rows}
    with Destination.open(dest) as out:
        if out.entries() and not force:
            raise Conflict(f"{dest} is not empty", hint="pull into a new folder or pass --force")
        written, nbytes = _extract(
            client, ws, dataset, number, split, out, targets, expected, version, progress
        )
    # The archive leaves out erased content; the manifest still lists it.
    lost = [r for r in rows if r["filename"] not in written]
    tombstones = {e["filename"]: e for e in client.erased(ws, dataset, number)} if lost else {}
    erased = [tombstones.get(r["filename"]) or _erased(r) for r in lost]
    kept = [r for r in rows if r["filename"] in written]
    if manifest_out is not None:
        _write_manifest(manifest_out, dataset, version, kept, erased)
    return PullReport(number, version["manifest_hash"], len(kept), nbytes, erased)


def _extract(
    client: Client,
    ws: str | None,
    dataset: str,
    number: int,
    split: str | None,
    out: Destination,
    targets: dict[str, str],
    expected: dict[str, str],
    version: Any,
    progress: Progress,
) -> tuple[set[str], int]:
    resp = client.archive(ws, dataset, number, split)
    written: set[str] = set()
    nbytes = 0
    try:
        announced = _header_int(resp.headers, "X-Ahoy-Files")
        sent_hash = resp.headers.get("X-Ahoy-Manifest-Hash")
        if sent_hash and sent_hash != version["manifest_hash"]:
            raise TransferError(
                "bad-archive", f"the archive is of manifest {sent_hash}, not the one asked for"
            )
        total = _header_int(resp.headers, "X-Ahoy-Bytes") or int(version.get("total_bytes") or 0)
        progress.start("pull", total, unit="bytes")
        resp.raw.decode_content = True
        names = set(expected)
        with tarfile.open(fileobj=resp.raw, mode="r|") as tar:
            for member in tar:
                if member.isdir():
                    continue  # folders come from the files' own paths
                name = check_member(member, names)
                if name in written:
                    raise TransferError("unsafe-archive", f"archive member {name!r} repeats")
                src = tar.extractfile(member)
                assert src is not None  # a regular file
                _write_verified(out, targets[name], src, expected[name], progress)
                written.add(name)
                nbytes += member.size
        if announced is not None and len(written) != announced:
            raise TransferError(
                "incomplete-archive",
                f"the archive ended after {len(written)} of {announced} files",
                hint="pull again; if it persists run `ahoy verify --deep`",
            )
    except tarfile.TarError as exc:
        raise TransferError(
            "bad-archive", f"the archive could not be read: {exc}", hint="pull again"
        ) from None
    finally:
        resp.close()
        progress.finish()
    return written, nbytes


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


def _write_manifest(
    path: Path, dataset: str, version: Any, rows: list[ManifestRow], erased: list[dict[str, Any]]
) -> None:
    doc = {
        "dataset": dataset,
        "version": version["number"],
        "manifest_hash": version["manifest_hash"],
        "split": version.get("split"),
        "files": [{k: r.get(k) for k in _ROW_KEYS} for r in rows],
        "erased": erased,
    }
    write_file(path, [json.dumps(doc, indent=1, sort_keys=True).encode()])


def _header_int(headers: Any, name: str) -> int | None:
    raw = headers.get(name)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None
