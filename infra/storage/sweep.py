"""``shortlist storage sweep``: delete the blobs no document refers to."""

import asyncio
import time
from collections.abc import Collection
from datetime import timedelta

import anyio.to_thread

from infra.db import make_engine, open_session
from infra.settings import Settings
from infra.storage import make_blob_store
from submissions.blobs import sweep_orphans
from submissions.documents import referenced_storage_keys


def sweep_storage(settings: Settings, *, grace: timedelta, dry_run: bool = False) -> list[str]:
    """Delete the blobs no document refers to (a deleted document's, an upload's whose row never
    committed, a crashed write's leftovers), sparing those younger than ``grace``; return their
    keys (with ``dry_run``: the keys it would delete)."""
    engine = make_engine(settings.database_url, pool_size=1)
    store = make_blob_store(settings)

    def referenced_now(keys: Collection[str]) -> set[str]:
        session = open_session(engine)
        try:
            return referenced_storage_keys(session=session, keys=keys)
        finally:
            session.close()

    async def referenced(keys: Collection[str]) -> set[str]:
        return await anyio.to_thread.run_sync(referenced_now, list(keys))

    orphans: list[str] = []

    async def keep_all(keys: Collection[str]) -> Collection[str]:
        kept = await referenced(keys)
        orphans.extend(key for key in keys if key not in kept)
        return keys

    async def sweep() -> list[str]:
        deleted = await sweep_orphans(
            store=store,
            referenced=keep_all if dry_run else referenced,
            # Blob ages by the clock that stamped them (the file system's, the S3 server's):
            # by this host's, were it ahead, uploads still in flight would look old enough.
            now=await store.now(),
            grace=grace,
        )
        return orphans if dry_run else deleted

    try:
        return asyncio.run(sweep())
    finally:
        engine.dispose()
        # obstore can crash the interpreter at exit right after an async call returns.
        time.sleep(0.05)
