"""A task cancelled while its BEGIN is in flight (a client hanging up on a stream)
must not hand the next caller a connection stuck inside a transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from appliance.adapters.catalog.database import READERS, Database

pytestmark = pytest.mark.integration


async def _cancel_during_begin(db: Database, write: bool) -> None:
    async def use() -> None:
        async with db.write() if write else db.read():
            await asyncio.sleep(10)

    task = asyncio.create_task(use())
    await asyncio.sleep(0)  # the task now awaits its BEGIN on aiosqlite's thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_a_cancelled_begin_leaves_no_transaction_behind(tmp_path: Path, write: bool):
    async def main() -> None:
        db = await Database(tmp_path / "catalog.sqlite").open()
        try:
            for _ in range(READERS):
                await _cancel_during_begin(db, write)
            for _ in range(READERS * 2):
                async with db.read() as conn:
                    await conn.execute("SELECT 1")
                async with db.write() as conn:
                    await conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
        finally:
            await db.close()

    asyncio.run(main())
