"""A separate process driving the data engine in-process (no server), for tests that
kill it mid-way or run several at once.

    python -m tests.integration.engine_worker DATA_DIR BLOB_STORE import DATASET SRC
    python -m tests.integration.engine_worker DATA_DIR BLOB_STORE commit DATASET MESSAGE
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from appliance.bootstrap import open_services
from appliance.services import importing, versions
from appliance.settings import Settings


async def main(data_dir: str, blob_store: str, verb: str, dataset: str, arg: str) -> None:
    settings = Settings.from_env({}, data_dir=Path(data_dir), blob_store=blob_store)
    async with open_services(settings) as ctx:
        if verb == "import":
            await importing.import_tree(ctx, settings.workspace, dataset, Path(arg), "worker")
        elif verb == "commit":
            await versions.commit(ctx, settings.workspace, dataset, arg, "worker")
        else:
            raise SystemExit(f"unknown verb {verb!r}")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
