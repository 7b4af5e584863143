"""The composition root: build everything from one frozen Settings.

Nothing here runs at import time; ``open_services`` is called by each edge (the
CLI today, the web app and job workers next) with the settings it was given.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from appliance import data_dir
from appliance.adapters.catalog.uow import SqliteCatalog
from appliance.adapters.prelabel.ultralytics import UltralyticsModels
from appliance.adapters.signing.appliance_key import ApplianceKey
from appliance.adapters.signing.checkpoint_log import CHECKPOINT_FILE, CheckpointLog
from appliance.errors import BlobStoreUnavailable
from appliance.ports.blobstore import BlobStore
from appliance.ports.jobs import JobKinds
from appliance.services.context import ServiceContext
from appliance.settings import Settings

if TYPE_CHECKING:
    from appliance.adapters.seaweed.credentials import WeedCredentials

WEED_STATE = "weed.json"


def make_blob_store(settings: Settings) -> BlobStore:
    if settings.blob_store == "local":
        from appliance.adapters.blobs.local import LocalBlobStore

        return LocalBlobStore(settings.blob_dir)
    from appliance.adapters.blobs.seaweed import SeaweedBlobStore

    state = settings.run_dir / WEED_STATE
    if not state.exists():
        why = (
            "the appliance is starting or restarting its blob store; try again in a few seconds"
            if serve_is_running(settings)
            else "the appliance is not running"
        )
        raise BlobStoreUnavailable(str(settings.data_dir), why)
    weed = json.loads(state.read_text())
    # master_url lets packs skip the filer; a state file without it (written by
    # an older `ahoy serve`) still works, through the filer.
    creds = weed.get("credentials_dir")
    store = SeaweedBlobStore(
        weed["filer_url"],
        settings.blob_index_path,
        master_url=weed.get("master_url"),
        credentials=_weed_credentials(Path(creds)) if creds else None,
    )
    store.ping()
    return store


def _weed_credentials(directory: Path) -> WeedCredentials:
    """weed takes only clients holding the appliance's keys; a process that
    cannot read them (another user) is told so, not handed a TLS or 401 error."""
    from appliance.adapters.seaweed.credentials import JWT_KEYS, WeedCredentials

    creds = WeedCredentials(directory)
    for path in (creds.client_cert, creds.client_key, creds.ca, creds.dir / JWT_KEYS):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise BlobStoreUnavailable(
                str(directory),
                f"its keys cannot be read ({exc.strerror}); "
                "run this as the user that runs `ahoy serve`",
            ) from None
    return creds


def serve_is_running(settings: Settings) -> bool:
    """`ahoy serve` holds an exclusive lock on run/serve.lock while it lives."""
    lock = settings.run_dir / "serve.lock"
    if not lock.exists():
        return False
    with open(lock) as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


class _NoBlobStore:
    """Stands in where a caller opened only the catalog (account commands on a stopped
    box): any use of blobs is a bug, said loudly."""

    name = "none"

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"only the catalog was opened (blob store asked for {name!r})")


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    blobs: bool = True,
    kinds: JobKinds[ServiceContext] | None = None,
) -> AsyncIterator[ServiceContext]:
    """``blobs=False`` opens only the catalog, so it works while the appliance is down.
    ``kinds``: the job kinds this process submits or runs (``ahoy serve`` and its
    worker pass ``appliance.jobs.kinds.registry()``; other callers need none).
    What this process creates from here on is private (see ``appliance.data_dir``)."""
    umask = data_dir.claim(settings.data_dir)
    catalog = await SqliteCatalog(settings.catalog_path).open()
    anchor = make_audit_anchor(settings)
    kinds = kinds if kinds is not None else JobKinds()
    try:
        if not blobs:
            none = cast(BlobStore, _NoBlobStore())
            yield ServiceContext(settings, catalog, none, anchor=anchor, kinds=kinds)
            return
        store = make_blob_store(settings)
        try:
            yield ServiceContext(
                settings, catalog, store, UltralyticsModels(settings.cache_dir), anchor, kinds=kinds
            )
        finally:
            store.close()
    finally:
        anchor.close()
        await catalog.close()
        os.umask(umask)  # the process is the caller's again (a test, an embedding)


def make_audit_anchor(settings: Settings) -> CheckpointLog:
    """Signed audit checkpoints in the data dir, signed with the appliance key."""
    key = ApplianceKey.load_or_create(settings.keys_dir)
    return CheckpointLog(settings.data_dir / "audit" / CHECKPOINT_FILE, key, settings.audit_syslog)
