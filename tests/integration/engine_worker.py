"""A separate process writing to the catalog, for tests that run several at once:
stages every file under SRC into DATASET, a batch at a time, each batch its own
write transaction (``tests.conftest.stage_files``: the services the upload routes
call).

    python -m tests.integration.engine_worker DATA_DIR DATASET SRC
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from appliance.bootstrap import open_services
from appliance.settings import Settings
from tests.conftest import read_tree, stage_files

BATCH = 100


async def main(data_dir: str, dataset: str, src: str) -> None:
    settings = Settings.from_env({}, data_dir=Path(data_dir), blob_store="local")
    files = list(read_tree(Path(src)).items())
    async with open_services(settings) as ctx:
        for i in range(0, len(files), BATCH):
            batch = dict(files[i : i + BATCH])
            await stage_files(ctx, settings.workspace, dataset, batch, "worker")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
