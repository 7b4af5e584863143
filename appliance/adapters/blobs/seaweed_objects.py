"""Where a ``SeaweedBlobStore`` keeps its objects: filer paths or volume needles.

Loose objects (large blobs) always go through the filer, which cuts them into
chunks; a volume needle is held whole in the volume server's memory and capped
by ``-volume.fileSizeLimitMB``. Packs go straight to a volume server when the
store knows the master's URL (half the weed CPU of the filer path), else to the
filer. Reads and deletes follow the locator the index holds: a filer path
starts with ``/``, a volume fid (``3,01637037d6``) does not.

A pack bound for a volume is journalled in the index (``pending_packs``) before
its upload starts; the transaction that indexes it removes that row. A killed
writer therefore leaves every needle it may have written named in the journal,
and ``sweep_pending`` deletes them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Iterator

from appliance.adapters.blobs.pack_index import PackIndex
from appliance.adapters.seaweed.filer import FilerClient
from appliance.adapters.seaweed.volume import VolumeClient, is_fid
from appliance.errors import BlobStoreError

log = logging.getLogger(__name__)


class SeaweedObjects:
    def __init__(
        self, filer: FilerClient, volumes: VolumeClient | None, index: PackIndex, root: str
    ) -> None:
        self.filer = filer
        self.volumes = volumes
        self.index = index
        self.root = root

    # -- naming ----------------------------------------------------------------

    def new_pack_path(self, workspace: str) -> str:
        # Time first so listings sort by age; the uuid makes every name unique,
        # so an object is never overwritten, not even by a retry.
        return f"{self.root}/{workspace}/packs/{time.time_ns():x}-{uuid.uuid4().hex}.pack"

    def new_loose_path(self, workspace: str, sha256: str) -> str:
        return f"{self.root}/{workspace}/loose/{sha256}.{uuid.uuid4().hex[:16]}"

    # -- bytes -----------------------------------------------------------------

    def _volumes(self, locator: str) -> VolumeClient | None:
        if not is_fid(locator):
            return None
        if self.volumes is None:
            raise BlobStoreError(
                f"pack {locator} lives on a volume server, but this store was opened "
                "without the master's URL",
                hint="pass master_url (ahoy serve writes it to run/weed.json)",
            )
        return self.volumes

    def get(self, locator: str, start: int, length: int) -> bytes | None:
        volumes = self._volumes(locator)
        if volumes is not None:
            return volumes.get(locator, start, length)
        return self.filer.get(locator, start, length)

    def stream(self, locator: str, start: int, length: int, chunk: int) -> Iterator[bytes] | None:
        volumes = self._volumes(locator)
        if volumes is not None:
            return volumes.stream(locator, start, length, chunk)
        return self.filer.stream(locator, start, length, chunk)

    def delete(self, locator: str) -> bool:
        """True if it was deleted, False if it was not there."""
        volumes = self._volumes(locator)
        if volumes is not None:
            return volumes.delete(locator)
        return self.filer.delete(locator)

    def write_pack(self, workspace: str, body: bytes | bytearray) -> str:
        """Store a sealed pack whole under a fresh name; return its locator.

        On a volume: assign, journal, PUT. A refused or failed PUT is retried
        once on a fresh assignment (weed's own filer does the same), since the
        master may have handed out a volume that just filled or went away.
        """
        if self.volumes is None:
            path = self.new_pack_path(workspace)
            self.filer.put(path, body)
            return path
        for attempt in (1, 2):
            where = self.volumes.assign()
            self.index.add_pending(where.fid, workspace, time.time())
            try:
                self.volumes.put(where, body)
                return where.fid
            except BlobStoreError as exc:
                self.abandon(where.fid)
                if attempt == 2:
                    raise
                log.warning("pack upload to %s failed, retrying: %s", where.url, exc)
            except BaseException:
                self.abandon(where.fid)
                raise
        raise AssertionError("unreachable")

    def discard(self, locators: Iterable[str]) -> None:
        """Best-effort delete of objects nothing points at; a failure only leaves
        garbage for ``sweep_unindexed``."""
        for locator in locators:
            try:
                self.delete(locator)
            except BlobStoreError as exc:
                log.warning("could not delete %s (sweep will): %s", locator, exc)

    def abandon(self, locator: str) -> None:
        """Delete an object that will never be indexed, and its journal row once
        the bytes are surely gone (else the sweep retries it)."""
        try:
            self.delete(locator)
            if is_fid(locator):
                self.index.drop_pending(locator)
        except BlobStoreError as exc:
            log.warning("could not remove %s (sweep will): %s", locator, exc)


def sweep_pending(objects: SeaweedObjects, older_than_seconds: float) -> int:
    """Delete the needles of journalled packs older than the threshold that
    never got indexed; return how many were there. Idempotent: a needle already
    gone counts as done, and the row is removed only after the delete answered."""
    if objects.volumes is None:
        if objects.index.pending():
            log.warning("pending volume packs left; open the store with master_url to sweep them")
        return 0
    removed = 0
    for fid in objects.index.claim_pending(time.time() - older_than_seconds):
        if objects.volumes.delete(fid):
            removed += 1
        objects.index.drop_pending(fid)
    return removed
