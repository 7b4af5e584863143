"""The composition root: build everything from one frozen Settings.

Nothing here runs at import time; ``open_services`` is called by each edge (the
CLI today, the web app and job workers next) with the settings it was given.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from appliance.adapters.catalog.uow import SqliteCatalog
from appliance.errors import BlobStoreUnavailable
from appliance.ports.blobstore import BlobStore
from appliance.services.context import ServiceContext
from appliance.settings import Settings

WEED_STATE = "weed.json"


def make_blob_store(settings: Settings) -> BlobStore:
    if settings.blob_store == "local":
        from appliance.adapters.blobs.local import LocalBlobStore

        return LocalBlobStore(settings.blob_dir)
    from appliance.adapters.blobs.seaweed import SeaweedBlobStore

    state = settings.run_dir / WEED_STATE
    if not state.exists():
        raise BlobStoreUnavailable(str(settings.data_dir), "the appliance is not running")
    filer_url = json.loads(state.read_text())["filer_url"]
    store = SeaweedBlobStore(filer_url, settings.blob_index_path)
    store.ping()
    return store


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[ServiceContext]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = await SqliteCatalog(settings.catalog_path).open()
    try:
        blobs = make_blob_store(settings)
        try:
            yield ServiceContext(settings, catalog, blobs)
        finally:
            blobs.close()
    finally:
        await catalog.close()
