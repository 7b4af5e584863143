"""Maintenance of a ``SeaweedBlobStore``: compaction, sweeping, index rebuild.

Every step keeps the store's one invariant: an index row only ever points at
bytes that are already whole in weed. Compaction therefore writes the new pack,
then moves the rows in one transaction, and only then deletes the old packs; a
kill between steps leaves an unindexed object (a filer object, or a volume pack
named in the pending journal), which the sweep removes.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Collection
from typing import TYPE_CHECKING

from appliance.adapters.blobs.keys import check_digest, check_workspace, verify
from appliance.adapters.blobs.pack_index import ObjectRow
from appliance.adapters.blobs.packs import (
    TRAILER_SIZE,
    PackBuilder,
    PackFormatError,
    footer_length,
    parse_footer,
)
from appliance.adapters.blobs.seaweed_objects import sweep_pending
from appliance.adapters.seaweed.volume import is_fid
from appliance.errors import BlobCorrupt, InvalidInput

if TYPE_CHECKING:
    from appliance.adapters.blobs.seaweed import SeaweedBlobStore

log = logging.getLogger(__name__)


def compact(
    store: SeaweedBlobStore,
    min_live_ratio: float,
    workspace: str | None,
    only: Collection[int] | None,
) -> int:
    index, objects = store._index, store._objects
    sparse = index.sparse_objects(workspace, min_live_ratio, None if only is None else list(only))
    by_workspace: dict[str, list[ObjectRow]] = {}
    for row in sparse:
        by_workspace.setdefault(row.workspace, []).append(row)
    reclaimed = 0
    for ws, rows in by_workspace.items():
        sizes = {r.locator: r.size for r in rows}
        builder = PackBuilder(ws)
        moves: list[tuple[str, int, int, int]] = []
        for row in rows:
            entries = index.live_entries(row.id)
            if not entries:
                continue
            start = entries[0][1]
            end = max(off + size for _, off, size in entries)
            data = objects.get(row.locator, start, end - start)
            if data is None:
                log.warning("pack %s vanished before compaction", row.locator)
                continue
            blobs = []
            try:
                for sha, off, size in entries:
                    blob = data[off - start : off - start + size]
                    verify(sha, blob)
                    blobs.append((sha, blob))
            except BlobCorrupt as exc:
                # Copying would hide the damage under a fresh name; leave the pack
                # where reads keep reporting it.
                log.error("not compacting %s: %s", row.locator, exc)
                continue
            for sha, blob in blobs:
                entry = builder.add(sha, blob)
                if entry is not None:
                    moves.append((sha, row.id, entry.offset, entry.size))
            if builder.size >= store.pack_bytes:
                reclaimed += _commit(store, ws, builder, moves, sizes)
                moves = []
        if moves:
            reclaimed += _commit(store, ws, builder, moves, sizes)
    return reclaimed


def _commit(
    store: SeaweedBlobStore,
    ws: str,
    builder: PackBuilder,
    moves: list[tuple[str, int, int, int]],
    old_sizes: dict[str, int],
) -> int:
    body, _, created = builder.seal()
    locator = store._objects.write_pack(ws, body)
    try:
        emptied, _ = store._index.move(
            ws, locator, len(body), moves, created, pending=is_fid(locator)
        )
    except BaseException:
        store._objects.abandon(locator)
        raise
    store._objects.discard(emptied)
    freed = sum(old_sizes.get(p, 0) for p in emptied)
    kept = 0 if locator in emptied else len(body)
    return freed - kept


def sweep_unindexed(store: SeaweedBlobStore, older_than_seconds: float) -> int:
    """The age guard is what makes this safe beside running writers: an object is
    indexed right after its upload ends, so an old unindexed one is abandoned.
    (A journalled pack claimed by the sweep can no longer be indexed at all.)"""
    removed = sweep_pending(store._objects, older_than_seconds)
    filer, index = store._filer, store._index
    cutoff = time.time() - older_than_seconds
    known = index.object_locators()
    for ws_dir in filer.list_dir(store.root):
        if not ws_dir.is_dir:
            continue
        for kind in ("packs", "loose"):
            for entry in filer.list_dir(f"{ws_dir.path}/{kind}"):
                if entry.is_dir or entry.path in known or entry.mtime > cutoff:
                    continue
                if entry.path in index.object_locators():  # indexed since we looked
                    continue
                if filer.delete(entry.path):
                    removed += 1
    return removed


def rebuild_index(store: SeaweedBlobStore) -> int:
    """Filer objects only: volume needles cannot be listed through weed's API."""
    filer, index = store._filer, store._index
    added = 0
    for ws_dir in filer.list_dir(store.root):
        if not ws_dir.is_dir:
            continue
        try:
            ws = check_workspace(ws_dir.name)
        except InvalidInput:
            continue
        for entry in filer.list_dir(f"{ws_dir.path}/packs"):
            if entry.is_dir or entry.size < TRAILER_SIZE:
                continue
            try:
                tail = filer.get(entry.path, entry.size - TRAILER_SIZE, TRAILER_SIZE) or b""
                length = footer_length(tail)
                raw = filer.get(entry.path, entry.size - TRAILER_SIZE - length, length) or b""
                footer = parse_footer(raw, entry.size)
            except PackFormatError as exc:
                log.warning("skipping %s: %s", entry.path, exc)
                continue
            if footer.workspace != ws:
                continue
            rows = [(e.sha256, e.offset, e.size) for e in footer.entries]
            added += index.adopt(ws, entry.path, "pack", entry.size, rows, footer.created_at)
        for entry in filer.list_dir(f"{ws_dir.path}/loose"):
            sha = entry.name.split(".", 1)[0]
            if entry.is_dir or not _is_digest(sha):
                continue
            # A loose object has no footer; a killed path-sourced put may have
            # left one whose bytes do not match its name, so hash it first.
            if not _loose_intact(store, entry.path, sha, entry.size):
                log.warning("skipping %s: its bytes do not match its name", entry.path)
                continue
            added += index.adopt(
                ws, entry.path, "loose", entry.size, [(sha, 0, entry.size)], entry.mtime
            )
    return added


def _loose_intact(store: SeaweedBlobStore, path: str, sha: str, size: int) -> bool:
    chunks = store._filer.stream(path, 0, size, 1 << 20)
    if chunks is None:
        return False
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest() == sha


def _is_digest(text: str) -> bool:
    try:
        check_digest(text)
    except InvalidInput:
        return False
    return True
